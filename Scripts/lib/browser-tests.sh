#!/usr/bin/env bash
# The console's browser tests (issue 14, DESIGN §12): Tests/Browser/test_console.py drives Debian's headless Chromium
# through chromedriver and selenium against real `halyard serve` processes on loopback (one open, one with tokens),
# serving temporary git repositories seeded from this repository's example flags/.
#
# Scripts/test runs it after the interop tests. Screenshots of every page at desktop (1280×900) and phone (390×844)
# width, and the servers' logs, go to .build/test-output/console/.
#
# Usage: Scripts/lib/browser-tests.sh [--update-screenshots] [pytest arguments…]
#   --update-screenshots  also copy the two README screenshots into docs/screenshots/
#
# Environment:
#   HALYARD_INTEROP_PYTHON  the test venv's Python, with pytest and selenium (default: .build/interop-venv/bin/python,
#                           created if missing; the same venv as Scripts/lib/interop.sh)
#   HALYARD_INTEROP_BIN     the halyard binary (default: $(swift build --show-bin-path)/halyard, the debug build)
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$halyard_root"
ensure_browser_test_dependencies

screenshots=""
if [ "${1:-}" = "--update-screenshots" ]; then
    screenshots="update"
    shift
fi

if [ -z "${HALYARD_INTEROP_PYTHON:-}" ]; then
    venv="$halyard_root/.build/interop-venv"
    ensure_python_venv "$venv" "${halyard_test_python_packages[@]}"
    HALYARD_INTEROP_PYTHON="$venv/bin/python"
fi
if [ -z "${HALYARD_INTEROP_BIN:-}" ]; then
    HALYARD_INTEROP_BIN="$(swift build --show-bin-path)/halyard"
fi
if [ ! -x "$HALYARD_INTEROP_BIN" ]; then
    echo "error: no halyard binary at $HALYARD_INTEROP_BIN (run swift build first)" >&2
    exit 2
fi

echo "==> browser: the console in headless Chromium (Tests/Browser)"
# No plugin autoload: schemathesis and hypothesis register pytest plugins this run does not need. No cache folder in
# the repository either.
status=0
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 PYTHONDONTWRITEBYTECODE=1 \
    HALYARD_BROWSER_BIN="$HALYARD_INTEROP_BIN" \
    HALYARD_BROWSER_OUTPUT="$halyard_root/.build/test-output/console" \
    HALYARD_BROWSER_SCREENSHOTS="$screenshots" \
    "$HALYARD_INTEROP_PYTHON" -m pytest "$halyard_root/Tests/Browser" -p no:cacheprovider -q -rfE "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "==> browser: FAILED (screenshots and server logs in .build/test-output/console/)" >&2
    exit "$status"
fi
echo "==> browser: all passed"
