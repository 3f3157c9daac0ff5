#!/usr/bin/env bash
# Create the virtualenv and install congso with its test extras (Python >= 3.11).
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}

need_apt() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing $*; install it (as root: apt-get install -y $*)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

command -v "$python" >/dev/null 2>&1 || need_apt python3 python3-venv python3-pip
"$python" - <<'PY' || { echo "congso needs Python >= 3.11" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
"$python" -c "import venv, ensurepip" 2>/dev/null || need_apt python3-venv

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
