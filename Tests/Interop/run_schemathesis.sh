#!/usr/bin/env bash
# Fuzzes a running `halyard serve` with schemathesis, from the OpenAPI document it serves.
#
# Usage: run_schemathesis.sh BASE_URL ADMIN_TOKEN
#
# Every operation gets positive and negative (malformed) examples, at most $HALYARD_INTEROP_MAX_EXAMPLES (default 100)
# per operation and phase, and must answer without a 5xx and with a response that matches the document. The two SSE
# streams are left out: their 200 never ends, so there is no response to check (Swift tests cover them). Runs with
# $HALYARD_INTEROP_PYTHON (schemathesis installed); exits non-zero on any failure.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BASE_URL ADMIN_TOKEN" >&2
    exit 2
fi
base_url="$1"
admin_token="$2"
python="${HALYARD_INTEROP_PYTHON:-python3}"
max_examples="${HALYARD_INTEROP_MAX_EXAMPLES:-100}"

# schemathesis (through Hypothesis) keeps state in the working directory: run it in a temporary one.
work="$(mktemp -d "${TMPDIR:-/tmp}/halyard-schemathesis.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

"$python" -m schemathesis.cli --no-color run "$base_url/openapi.yaml" \
    --url "$base_url" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$max_examples" \
    --exclude-path-regex '/(stream|events)$' \
    --header "Authorization: Bearer $admin_token" \
    --request-timeout 10 \
    --workers 1 \
    --seed 6
