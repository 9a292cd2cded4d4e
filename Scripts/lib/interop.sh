#!/usr/bin/env bash
# Interoperability tests against a real `halyard serve`, with tools nobody here wrote:
#   - the OpenFeature Python SDK and its OFREP provider (Tests/Interop/openfeature_check.py);
#   - schemathesis, fuzzing every operation of the served OpenAPI document (Tests/Interop/run_schemathesis.sh);
#   - Tests/Interop/webhook_check.sh, when it exists.
#
# Scripts/test runs it after `swift test`. It serves a temporary git repository holding this repository's example
# flags/ and the interop-only flags of Tests/Interop/flags/ (local mode) on a free port, with an admin token, and exits
# non-zero if any check fails.
#
# Environment:
#   HALYARD_INTEROP_PYTHON  a Python with standardwebhooks, openfeature-sdk, openfeature-provider-ofrep and
#                           schemathesis (default: .build/interop-venv/bin/python, created if missing)
#   HALYARD_INTEROP_BIN     the halyard binary (default: $(swift build --show-bin-path)/halyard)
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$halyard_root"
ensure_packages git curl

if [ -z "${HALYARD_INTEROP_PYTHON:-}" ]; then
    venv="$halyard_root/.build/interop-venv"
    ensure_python_venv "$venv" "${halyard_test_python_packages[@]}"
    HALYARD_INTEROP_PYTHON="$venv/bin/python"
fi
export HALYARD_INTEROP_PYTHON
if [ -z "${HALYARD_INTEROP_BIN:-}" ]; then
    HALYARD_INTEROP_BIN="$(swift build --show-bin-path)/halyard"
fi
export HALYARD_INTEROP_BIN
if [ ! -x "$HALYARD_INTEROP_BIN" ]; then
    echo "error: no halyard binary at $HALYARD_INTEROP_BIN (run swift build first)" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/halyard-interop.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A flag repository with the example flags and the interop-only flags (Tests/Interop/flags: falsy values of every
# kind, 2^53 - 1, a float flag), committed.
repo="$work/repo"
mkdir -p "$repo"
cp -R "$halyard_root/flags" "$repo/flags"
for environment in "$halyard_root"/Tests/Interop/flags/*/; do
    mkdir -p "$repo/flags/$(basename "$environment")"
    cp "$environment"*.json "$repo/flags/$(basename "$environment")/"
done
git -C "$repo" init -q -b main
git -C "$repo" -c user.email=interop@example.com -c user.name="Halyard interop" -c commit.gpgsign=false \
    add -A
git -C "$repo" -c user.email=interop@example.com -c user.name="Halyard interop" -c commit.gpgsign=false \
    commit -q -m "example flags"

# Serve it (local mode) on a free port.
admin_token="interop-admin-$RANDOM$RANDOM"
log="$work/serve.log"
(
    cd "$repo"
    HALYARD_AUTH_ADMIN_TOKEN="$admin_token" HALYARD_NOTIFY_ALLOW_PRIVATE_NETWORKS=true exec "$HALYARD_INTEROP_BIN" serve --port 0 --data-dir "$work/data" --log-level notice
) >"$log" 2>&1 &
server_pid=$!

base_url=""
for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "error: halyard serve exited:" >&2
        cat "$log" >&2
        exit 1
    fi
    base_url="$(grep -o 'url=http://[0-9.]*:[0-9]*' "$log" | head -n 1 | cut -d= -f2 || true)"
    if [ -n "$base_url" ] && curl -fsS "$base_url/readyz" >/dev/null 2>&1; then
        break
    fi
    base_url=""
    sleep 0.1
done
if [ -z "$base_url" ]; then
    echo "error: halyard serve did not become ready within 30 s:" >&2
    cat "$log" >&2
    exit 1
fi
echo "==> interop: halyard serve is ready at $base_url"

failures=()

echo "==> interop: OpenFeature SDK with the OFREP provider"
if ! "$HALYARD_INTEROP_PYTHON" "$halyard_root/Tests/Interop/openfeature_check.py" "$base_url"; then
    failures+=("openfeature_check.py")
fi

echo "==> interop: schemathesis against /openapi.yaml"
if ! "$halyard_root/Tests/Interop/run_schemathesis.sh" "$base_url" "$admin_token"; then
    failures+=("run_schemathesis.sh")
fi

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: halyard serve died during the interop tests:" >&2
    tail -n 50 "$log" >&2
    failures+=("halyard serve stayed up")
fi

if [ -f "$halyard_root/Tests/Interop/webhook_check.sh" ]; then
    echo "==> interop: Standard Webhooks (Tests/Interop/webhook_check.sh)"
    if ! bash "$halyard_root/Tests/Interop/webhook_check.sh"; then
        failures+=("webhook_check.sh")
    fi
fi

if [ "${#failures[@]}" -gt 0 ]; then
    echo "==> interop: FAILED: ${failures[*]}" >&2
    exit 1
fi
echo "==> interop: all passed"
