#!/usr/bin/env bash
# The whole test suite, set-up included: installs what the suite needs when it is missing
# (Debian packages, and the independent OpenID provider's npm packages), then runs every test.
#
#   ./test.sh               set up, then `cargo test --workspace` (extra arguments go to cargo test)
#   ./test.sh --setup-only  set up and stop (CI runs its lint checks in between)
#   ./test.sh --quick       a contributor's inner loop: the in-memory and loopback suites of the
#                           library crates (no Chromium, Node or Redis; nothing installed)
#
# As root it installs with apt-get. Without root it stops before compiling anything and prints
# the exact command to run. With the tools already installed it is `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")"

setup_only=false
if [ "${1:-}" = "--setup-only" ]; then
    setup_only=true
    shift
fi

# The library crates whose suites need nothing but cargo (the emulator runs in-process).
if [ "${1:-}" = "--quick" ]; then
    shift
    echo "== cargo test (quick: no Chromium, Node or Redis)"
    exec cargo test -p idme-core -p idme-apps -p idme-axum -p idme-actix -p idme-rocket \
        -p idme-native -p idme-testkit "$@"
fi

# What the suite runs, and the Debian package that brings it.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)         # headless browser tests
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v node >/dev/null 2>&1 || need+=(nodejs)              # oidc-provider (interop tests)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server) # the Redis session store tests
# The SQL store's Postgres tests (initdb + postgres in a temporary directory).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)     # building josekit (OpenSSL)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)

if [ ${#need[@]} -gt 0 ]; then
    install="apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "The test suite needs these Debian packages, which are missing: ${need[*]}" >&2
        echo "Install them, then run ./test.sh again:" >&2
        echo "" >&2
        echo "    sudo sh -c '$install'" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "The test suite needs: ${need[*]} (Debian package names); install them with your package manager." >&2
        exit 1
    fi
    echo "== installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The independent OpenID provider, pinned by its lockfile; reinstalled when the lockfile changes.
provider=e2e/oidc-provider
if [ ! -f "$provider/node_modules/.package-lock.json" ] ||
    [ "$provider/package-lock.json" -nt "$provider/node_modules/.package-lock.json" ]; then
    echo "== npm ci ($provider)"
    (cd "$provider" && npm ci --no-audit --no-fund)
fi

if $setup_only; then
    exit 0
fi

echo "== cargo test --workspace"
exec cargo test --workspace "$@"
