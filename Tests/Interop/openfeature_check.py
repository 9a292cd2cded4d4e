#!/usr/bin/env python3
"""Evaluates Halyard flags through the OpenFeature Python SDK and its OFREP provider.

Usage: openfeature_check.py BASE_URL

BASE_URL is the server, e.g. http://127.0.0.1:8080. The provider is pointed at the
OFREP base URL of the production environment, BASE_URL/environments/production, of a
server that serves this repository's example flags (flags/production/*.json):

- new-checkout: on for customer in ["Disney", "Pop Tarts"] (and a sticky 25% of
  enterprise users);
- maintenance-banner: inactive, baseState false;
- legacy-search: baseState true, off for the listed accounts.

Needs `openfeature-sdk` and `openfeature-provider-ofrep` (PyPI). Prints one line per
check and a final "N passed, M failed"; exits 1 if any check failed.
"""

import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base_url = sys.argv[1].rstrip("/")
    api.set_provider(OFREPProvider(f"{base_url}/environments/production"))
    client = api.get_client("halyard-interop")

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

    def boolean(name, flag, context, value, reason, variant, default=False):
        details = client.get_boolean_details(flag, default, context)
        check(
            name,
            (details.value, details.reason, details.variant, details.error_code),
            (value, reason, variant, None),
        )
        return details

    disney = EvaluationContext(targeting_key="user-1", attributes={"customer": "Disney", "plan": "free"})
    acme = EvaluationContext(targeting_key="user-2", attributes={"customer": "Acme", "plan": "free"})

    matched = boolean("matching user", "new-checkout", disney, True, Reason.TARGETING_MATCH, "on")
    commit = (matched.flag_metadata or {}).get("commit", "")
    check("metadata carries the served commit", isinstance(commit, str) and len(commit) == 40, True)
    check("metadata carries the flag's owner", (matched.flag_metadata or {}).get("owner"), "checkout-team")
    boolean("non-matching user", "new-checkout", acme, False, Reason.DEFAULT, "off", default=True)
    boolean("inactive flag", "maintenance-banner", disney, False, Reason.DISABLED, "off", default=True)
    boolean("baseState true, no group matches", "legacy-search", acme, True, Reason.DEFAULT, "on")
    boolean("no context at all", "new-checkout", None, False, Reason.DEFAULT, "off", default=True)
    boolean(
        "baseState true, a group matches",
        "legacy-search",
        EvaluationContext(targeting_key="user-3", attributes={"accountId": 1002}),
        False,
        Reason.TARGETING_MATCH,
        "off",
        default=True,
    )

    unknown = client.get_boolean_details("no-such-flag", True, disney)
    check(
        "unknown flag",
        (unknown.value, unknown.reason, unknown.error_code),
        (True, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND),
    )

    mismatch = client.get_string_details("new-checkout", "fallback", disney)
    check(
        "string details of a boolean flag",
        (mismatch.value, mismatch.reason, mismatch.error_code),
        ("fallback", Reason.ERROR, ErrorCode.TYPE_MISMATCH),
    )
    check("string value of a boolean flag", client.get_string_value("new-checkout", "fallback", disney), "fallback")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
