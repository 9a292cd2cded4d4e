#!/usr/bin/env python3
"""Evaluates Halyard flags through the OpenFeature Python SDK and its OFREP provider.

Usage: openfeature_check.py BASE_URL

BASE_URL is the server, e.g. http://127.0.0.1:8080. The default provider is pointed at
the OFREP base URL of the production environment, BASE_URL/environments/production, and
two more (domains "staging" and "development") at the other environments, of a server
that serves this repository's example flags (flags/*/*.json) and the interop-only flags
of Tests/Interop/flags/:

- new-checkout (boolean): on for customer in ["Disney", "Pop Tarts"] (and a sticky 25%
  of enterprise users);
- maintenance-banner (boolean): inactive, baseState false;
- legacy-search (boolean): baseState true, off for the listed accounts;
- checkout-layout (string): one-page for enterprise, else a 10/90 compact/classic split
  by targetingKey (staging: 25/25/50 compact/one-page/classic; development: compact);
- search-page-size (integer): 20 on ios/android, 100 for enterprise, else 50
  (development: 5 for everybody);
- banner-config (object): spring-sale for targetingKey qa-robot-1/2, else {}
  (staging: maintenance for everybody; development: inactive);
- interop-ratio (float): 0.75 for plan pro, else 0.25;
- interop-falsy-* : false, "", 0, 0.0 and {} for everybody;
- interop-max-safe-integer: 9007199254740991 (-9007199254740991 for targetingKey "negative").

Needs `openfeature-sdk` and `openfeature-provider-ofrep` (PyPI). Prints one line per
check and a final "N passed, M failed"; exits 1 if any check failed.
"""

import sys
from collections import Counter

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

MAX_SAFE_INTEGER = 2**53 - 1
SPLIT_USERS = 10_000


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base_url = sys.argv[1].rstrip("/")
    api.set_provider(OFREPProvider(f"{base_url}/environments/production"))
    api.set_provider(OFREPProvider(f"{base_url}/environments/staging"), domain="staging")
    api.set_provider(OFREPProvider(f"{base_url}/environments/development"), domain="development")
    client = api.get_client("halyard-interop")
    staging = api.get_client("staging")
    development = api.get_client("development")

    passed = 0
    failed = 0

    def check(name, actual, expected):
        nonlocal passed, failed
        if actual == expected:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: expected {expected!r}, got {actual!r}")

    def resolve(kind, name, flag, context, value, reason, variant, default, on=None):
        """Resolves `flag` as `kind` and checks value (with its Python type), reason, variant and no error."""
        details = getattr(on or client, f"get_{kind}_details")(flag, default, context)
        check(
            name,
            (details.value, type(details.value), details.reason, details.variant, details.error_code),
            (value, type(value), reason, variant, None),
        )
        return details

    def boolean(name, flag, context, value, reason, variant, default=False):
        return resolve("boolean", name, flag, context, value, reason, variant, default)

    def mismatch(name, kind, flag, default, context=None):
        details = getattr(client, f"get_{kind}_details")(flag, default, context)
        check(name, (details.value, details.reason, details.error_code), (default, Reason.ERROR, ErrorCode.TYPE_MISMATCH))

    disney = EvaluationContext(targeting_key="user-1", attributes={"customer": "Disney", "plan": "free"})
    acme = EvaluationContext(targeting_key="user-2", attributes={"customer": "Acme", "plan": "free"})
    enterprise = EvaluationContext(targeting_key="user-3", attributes={"plan": "enterprise"})
    phone = EvaluationContext(targeting_key="user-4", attributes={"platform": "ios", "plan": "enterprise"})

    # Boolean flags.
    matched = boolean("matching user", "new-checkout", disney, True, Reason.TARGETING_MATCH, "on")
    commit = (matched.flag_metadata or {}).get("commit", "")
    check("metadata carries the served commit", isinstance(commit, str) and len(commit) == 40, True)
    check("metadata carries the flag's owner", (matched.flag_metadata or {}).get("owner"), "checkout-team")
    boolean("non-matching user", "new-checkout", acme, False, Reason.DEFAULT, "off", default=True)
    boolean("inactive flag", "maintenance-banner", disney, False, Reason.DISABLED, "off", default=True)
    # A boolean flag's variants are "on" (!baseState, what a matching group gives) and "off" (baseState), DESIGN §1.
    boolean("baseState true, no group matches", "legacy-search", acme, True, Reason.DEFAULT, "off")
    boolean("no context at all", "new-checkout", None, False, Reason.DEFAULT, "off", default=True)
    boolean(
        "baseState true, a group matches",
        "legacy-search",
        EvaluationContext(targeting_key="user-3", attributes={"accountId": 1002}),
        False,
        Reason.TARGETING_MATCH,
        "on",
        default=True,
    )

    unknown = client.get_boolean_details("no-such-flag", True, disney)
    check(
        "unknown flag",
        (unknown.value, unknown.reason, unknown.error_code),
        (True, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND),
    )

    # String flags: a served variant, a split, the default, a static flag.
    resolve("string", "string: served variant", "checkout-layout", enterprise, "one-page", Reason.TARGETING_MATCH, "one-page", "x")
    resolve("string", "string: no targeting key, so no split", "checkout-layout", None, "classic", Reason.DEFAULT, "classic", "x")
    split = client.get_string_details("checkout-layout", "x", acme)
    check(
        "string: split",
        (split.value in ("compact", "classic"), split.variant == split.value, split.reason, split.error_code),
        (True, True, Reason.SPLIT, None),
    )
    again = client.get_string_details("checkout-layout", "x", acme)
    check("string: split is sticky", (again.value, again.variant), (split.value, split.variant))
    resolve("string", "string: static (development)", "checkout-layout", acme, "compact", Reason.STATIC, "compact", "x", on=development)

    def distribution(name, on, weights):
        """Resolves checkout-layout for SPLIT_USERS targeting keys and compares the variants' shares with `weights`."""
        counts = Counter()
        for index in range(SPLIT_USERS):
            details = on.get_string_details("checkout-layout", "x", EvaluationContext(targeting_key=f"interop-user-{index}"))
            counts[details.variant if details.reason == Reason.SPLIT else f"not split: {details.reason}"] += 1
        shares = {variant: 100.0 * count / SPLIT_USERS for variant, count in counts.items()}
        print(f"     {name}: shares {dict(sorted(shares.items()))} for weights {weights}")
        check(f"{name}: every targeting key is split between the variants", set(counts) <= set(weights), True)
        for variant, weight in weights.items():
            share = shares.get(variant, 0.0)
            check(f"{name}: {variant} {share:.2f}% of {SPLIT_USERS} keys is within 1 point of {weight}%", abs(share - weight) <= 1.0, True)

    distribution("split 10/90 (production)", client, {"compact": 10, "classic": 90})
    distribution("split 25/25/50 (staging)", staging, {"compact": 25, "one-page": 25, "classic": 50})

    # Integer flags.
    resolve("integer", "integer: served variant", "search-page-size", phone, 20, Reason.TARGETING_MATCH, "small", -1)
    resolve("integer", "integer: second group", "search-page-size", enterprise, 100, Reason.TARGETING_MATCH, "large", -1)
    resolve("integer", "integer: default", "search-page-size", acme, 50, Reason.DEFAULT, "medium", -1)
    resolve("integer", "integer: static (development)", "search-page-size", acme, 5, Reason.STATIC, "tiny", -1, on=development)
    resolve("integer", "integer: 2^53 - 1 survives the round trip", "interop-max-safe-integer", acme, MAX_SAFE_INTEGER, Reason.DEFAULT, "max", 1)
    resolve(
        "integer",
        "integer: -(2^53 - 1) for a targetingKey",
        "interop-max-safe-integer",
        EvaluationContext(targeting_key="negative"),
        -MAX_SAFE_INTEGER,
        Reason.TARGETING_MATCH,
        "min",
        1,
    )

    # Float flags.
    pro = EvaluationContext(targeting_key="user-5", attributes={"plan": "pro"})
    resolve("float", "float: served variant", "interop-ratio", pro, 0.75, Reason.TARGETING_MATCH, "high", -1.0)
    resolve("float", "float: default", "interop-ratio", acme, 0.25, Reason.DEFAULT, "low", -1.0)

    # Object flags, and a flag targeted on targetingKey.
    spring_sale = {
        "text": "Spring sale: 20% off annual plans.",
        "level": "info",
        "dismissible": True,
        "link": "/pricing",
    }
    qa = EvaluationContext(targeting_key="qa-robot-1")
    resolve("object", "object: targeted on targetingKey", "banner-config", qa, spring_sale, Reason.TARGETING_MATCH, "spring-sale", {})
    resolve("object", "object: targetingKey not listed", "banner-config", acme, {}, Reason.DEFAULT, "none", {"default": True})
    maintenance = staging.get_object_details("banner-config", {}, acme)
    check(
        "object: static (staging)",
        ((maintenance.value or {}).get("level"), maintenance.reason, maintenance.variant, maintenance.error_code),
        ("warning", Reason.STATIC, "maintenance", None),
    )
    resolve("object", "object: inactive (development)", "banner-config", qa, {}, Reason.DISABLED, "none", {"default": True}, on=development)

    # Falsy values are values: each comes back instead of a truthy default.
    resolve("boolean", "falsy boolean", "interop-falsy-boolean", acme, False, Reason.STATIC, "no", True)
    resolve("string", "falsy string", "interop-falsy-string", acme, "", Reason.STATIC, "empty", "default")
    resolve("integer", "falsy integer", "interop-falsy-integer", acme, 0, Reason.STATIC, "zero", 42)
    resolve("float", "falsy float", "interop-falsy-float", acme, 0.0, Reason.STATIC, "zero", 4.2)
    resolve("object", "falsy object", "interop-falsy-object", acme, {}, Reason.STATIC, "empty", {"default": True})

    # Asking a flag for the wrong type gives the default with TYPE_MISMATCH.
    mismatch("string flag asked as a boolean", "boolean", "checkout-layout", True, acme)
    mismatch("boolean flag asked as a string", "string", "new-checkout", "fallback", disney)
    check("string value of a boolean flag", client.get_string_value("new-checkout", "fallback", disney), "fallback")
    mismatch("object flag asked as a string", "string", "banner-config", "fallback", qa)
    mismatch("integer flag asked as a float (write 10.0 for a float)", "float", "search-page-size", 1.5, acme)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
