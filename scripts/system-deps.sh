#!/usr/bin/env bash
# Install the Debian packages Kinfolk needs, only those missing, with apt-get (through sudo when
# not run as root):
#
#   scripts/system-deps.sh            # chromium: the browser the test suite drives with Playwright
#   scripts/system-deps.sh fonts      # fonts-noto-cjk: Korean glyphs in the browser's screenshots
#   scripts/system-deps.sh venv       # python3-venv: Python's venv module with pip (bootstrap.sh)
set -euo pipefail

packages=()
for need in "${@:-chromium}"; do
    case "$need" in
        chromium) [ -x /usr/bin/chromium ] || packages+=(chromium) ;;
        fonts) [ -d /usr/share/fonts/opentype/noto ] || packages+=(fonts-noto-cjk) ;;
        venv) packages+=(python3-venv) ;;
        *) printf 'error: unknown dependency %s (known: chromium, fonts, venv)\n' "$need" >&2; exit 2 ;;
    esac
done
[ "${#packages[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    printf 'error: apt-get not found; install %s with your system package manager\n' "${packages[*]}" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        printf 'error: installing %s needs root; run as root or install sudo\n' "${packages[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi

printf '==> Installing %s with apt-get\n' "${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
