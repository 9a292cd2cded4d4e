# Shared set-up for the Scripts: installs the Debian packages Halyard needs when they are missing.
# Sourced, not run.

halyard_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# ensure_packages PKG... installs the given Debian packages if dpkg does not list them as installed.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing missing system packages: ${missing[*]}"
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# ensure_build_dependencies: what `swift build` needs beyond the toolchain.
ensure_build_dependencies() {
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: no Swift toolchain on PATH (Halyard needs Swift 6.1 or newer)" >&2
        exit 2
    fi
    ensure_packages git pkg-config libgit2-dev libsqlite3-dev
    if ! pkg-config --exists libgit2; then
        echo "error: pkg-config cannot find libgit2 even after installing libgit2-dev" >&2
        exit 2
    fi
}

# ensure_test_dependencies: the real servers the transport and packaging tests start on loopback (nginx with
# git-http-backend through fcgiwrap over TLS from an openssl test CA, OpenSSH's sshd), systemd-analyze, and the signing
# tools of the signed-commit tests (ssh-keygen from openssh-client, gpg from gnupg, gpgv).
ensure_test_dependencies() {
    ensure_packages nginx-light fcgiwrap openssh-server openssh-client openssl systemd python3 gnupg gpgv
}

# ensure_browser_test_dependencies: Debian's Chromium and its chromedriver for the console's browser tests
# (Scripts/lib/browser-tests.sh), with fonts so that the screenshots have real text.
ensure_browser_test_dependencies() {
    ensure_packages chromium chromium-driver fonts-liberation fonts-dejavu-core
}

# The PyPI packages of the one test virtual environment (.build/interop-venv) that the interoperability tests and the
# browser tests share: the Standard Webhooks verifier, the OpenFeature SDK with its OFREP provider, schemathesis (which
# brings pytest), and selenium. Everything that creates that venv passes this list, so its stamp stays the same.
halyard_test_python_packages=(standardwebhooks openfeature-sdk openfeature-provider-ofrep schemathesis selenium)

# ensure_python_venv DIR PKG...: a Python virtual environment at DIR with the given PyPI packages.
ensure_python_venv() {
    local dir="$1"
    shift
    ensure_packages python3 python3-venv
    if [ ! -x "$dir/bin/python" ]; then
        python3 -m venv "$dir"
    fi
    local stamp="$dir/.halyard-packages"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$*" ]; then
        echo "==> installing Python packages into $dir: $*"
        "$dir/bin/pip" install -q --disable-pip-version-check "$@"
        echo "$*" > "$stamp"
    fi
}

# ensure_test_postgres: Debian's PostgreSQL server, for the tests of the PostgreSQL state store (a throw-away cluster
# per run, Scripts/lib/postgres-cluster).
ensure_test_postgres() {
    ensure_packages postgresql python3
}
