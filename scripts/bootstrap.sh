#!/usr/bin/env bash
# Create ./.venv if it is missing or broken and install Kinfolk into it (editable), with the
# optional dependency groups named as arguments:
#
#   scripts/bootstrap.sh          # what `make demo` needs
#   scripts/bootstrap.sh test     # plus pytest, Playwright, ... for `make test`
#
# A stamp file per set of extras (.venv/.installed, .venv/.installed-test) records a finished
# install; the install runs again only when pyproject.toml is newer than the stamp.
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
extras=$(IFS=,; echo "$*")
stamp="$VENV/.installed${extras:+-${extras//,/-}}"

say() { printf '==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

python_ok() {
    # Kinfolk needs Python 3.11 or newer.
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && python_ok "$VENV/bin/python"; then
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || fail "'$PYTHON' not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
python_ok "$PYTHON" || fail "$("$PYTHON" -V 2>&1) is too old; Kinfolk needs Python 3.11 or newer (set PYTHON=...)"

if ! python_ok "$VENV/bin/python" || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    say "Creating $VENV with $("$PYTHON" -V 2>&1)"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        # Debian ships venv's pip bootstrap (ensurepip) in a separate package.
        rm -rf "$VENV"
        say "Python's venv module is incomplete; installing Debian's python3-venv"
        bash scripts/system-deps.sh venv
        "$PYTHON" -m venv "$VENV" || fail "could not create $VENV"
    fi
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
say "Installing kinfolk${extras:+[$extras]} and its dependencies into $VENV (the first time takes a minute or two)"
rm -f "$VENV"/.installed*
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --quiet --editable "$target" \
    || fail "pip install failed (see the messages above)"
touch "$stamp"
# Any install includes the base dependencies.
[ "$stamp" = "$VENV/.installed" ] || touch "$VENV/.installed"
say "$VENV is ready"
