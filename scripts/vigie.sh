#!/usr/bin/env bash
# Sets everything up on a fresh Debian / Ubuntu / Raspberry Pi OS machine, then runs a task:
#   ./scripts/vigie.sh demo    the simulated territory through the real stack
#   ./scripts/vigie.sh test    the whole test suite (unit, integration, end-to-end)
#   ./scripts/vigie.sh setup   only install
# System packages (mosquitto, influxdb; for the tests a headless Chromium, npm for axe-core and
# poppler-utils) are installed with apt when missing (root or sudo);
# Python packages go into .venv beside this repository.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
task="${1:-demo}"
shift || true

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_system_packages() {
    local missing=()
    # the tests look at the static bulletin as a browser shows it
    if [ "$task" = test ] && ! command -v chromium-headless-shell >/dev/null 2>&1 \
        && ! command -v chromium >/dev/null 2>&1; then
        missing+=(chromium-headless-shell)
    fi
    # ... audits it with axe-core (npm) and reads its PDF (poppler-utils)
    if [ "$task" = test ]; then
        command -v npm >/dev/null 2>&1 || missing+=(npm)
        command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    fi
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
    command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    say "installing system packages: ${missing[*]}"
    # The packages' own services are not needed: Vigie starts its servers on free ports.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

install_python_packages() {
    if [ ! -x .venv/bin/python ]; then
        say "creating .venv"
        python3 -m venv .venv
    fi
    local stamp=.venv/.vigie-installed
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        say "installing Vigie and its dependencies into .venv"
        .venv/bin/python -m pip install -q --upgrade pip >/dev/null
        .venv/bin/python -m pip install -q -e '.[dev]'
        touch "$stamp"
    fi
}

install_test_tools() {
    # axe-core, the accessibility rules engine the bulletin's tests inject into Chromium, and
    # dclint, whose Compose Specification schema and rules check docker-compose.yml
    local axe=.venv/node/node_modules/axe-core/axe.min.js
    local dclint=.venv/node/node_modules/dclint/schemas/compose.schema.json
    if [ ! -f "$axe" ] || [ ! -f "$dclint" ]; then
        say "installing axe-core and dclint (npm) into .venv/node"
        npm install --silent --no-audit --no-fund --prefix .venv/node axe-core@4.14.1 \
            dclint@3.1.0 >/dev/null
    fi
}

install_system_packages
install_python_packages
[ "$task" = test ] && install_test_tools
export PATH="$here/.venv/bin:$PATH"

case "$task" in
    setup) say "ready: source .venv/bin/activate, then vigie --help" ;;
    demo) exec vigie demo "$@" ;;
    test)
        say "lint, types and the manual"
        ruff check . && ruff format --check . && mypy && lint-imports --no-cache
        # (Material for MkDocs announces its end of life, May 2027, on every build: said once
        # in docs/developers.md instead)
        site="$(mktemp -d)" && NO_MKDOCS_2_WARNING=1 mkdocs build --quiet --strict \
            --site-dir "$site" && rm -rf "$site"
        exec python -m pytest "$@" ;;
    *) echo "usage: $0 [setup|demo|test] [args...]" >&2; exit 2 ;;
esac
