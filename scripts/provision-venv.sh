#!/usr/bin/env bash
# Builds the Python virtualenv in .venv from requirements.txt; skipped while requirements.txt
# is unchanged since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv
stamp=$venv/.requirements.sha256

want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "==> virtualenv up to date"
    touch "$stamp"
    exit 0
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "error: Wangge needs Python 3.11; $python is $("$python" --version 2>&1) (set PYTHON=...)" >&2
    exit 1
fi

if [[ ! -x $venv/bin/python ]]; then
    echo "==> creating virtualenv $venv"
    "$python" -m venv "$venv"
fi
echo "==> installing Python packages from requirements.txt"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r requirements.txt
echo "$want" >"$stamp"
echo "==> virtualenv ready"
