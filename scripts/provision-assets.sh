#!/usr/bin/env bash
# Installs the front-end libraries from the npm registry (package.json, package-lock.json) and
# copies the files the pages load into static/vendor/, following static/vendor.json:
#   "npm":     {package: {path in node_modules/package: path under static/vendor}}
#   "python":  {package: {path in the installed Python package: path under static/vendor}}
#   "rewrite": {file under static/vendor: {text: replacement}}, for CSS that links a CDN
# A path ending in "/" is a folder. Nothing is copied from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
vendor=static/vendor
stamp=$vendor/.installed

[[ -x $python ]] || { echo "error: $python is missing; run scripts/provision-venv.sh first" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is missing; run scripts/provision-system.sh first" >&2; exit 1; }

folium_version=$($python -c 'from importlib.metadata import version; print(version("folium"))')
want=$(cat package-lock.json static/vendor.json "$0" <(echo "folium $folium_version") | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "==> front-end assets up to date"
    touch "$stamp"
    exit 0
fi

echo "==> installing front-end packages (npm ci)"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

echo "==> copying front-end assets into $vendor/"
rm -rf "$vendor.new"
$python - "$vendor.new" <<'PY'
import importlib.util
import json
import shutil
import sys
from pathlib import Path

target = Path(sys.argv[1])
manifest = json.loads(Path("static/vendor.json").read_text())


def copy(source: Path, dest: str) -> None:
    if not source.exists():
        sys.exit(f"error: static/vendor.json names {source}, which does not exist")
    if dest.endswith("/"):
        shutil.copytree(source, target / dest)
    else:
        (target / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / dest)


for package, files in manifest["npm"].items():
    for source, dest in files.items():
        copy(Path("node_modules", package, source), dest)

for package, files in manifest["python"].items():
    root = Path(importlib.util.find_spec(package).origin).parent
    for source, dest in files.items():
        copy(root / source, dest)

for dest, replacements in manifest["rewrite"].items():
    path = target / dest
    text = path.read_text()
    for old, new in replacements.items():
        if old not in text:
            sys.exit(f"error: {dest} no longer contains {old!r}; update static/vendor.json")
        text = text.replace(old, new)
    path.write_text(text)

# folium.Icon(angle=N) adds the class fa-rotate-N, styled by a CSS file folium keeps in its
# repository but not in its wheel; it is one rule per degree.
rules = (f".fa-rotate-{a}{{transform:rotate({a}deg)}}\n" for a in range(360))
(target / "folium/leaflet.awesome.rotate.css").write_text("".join(rules))
PY

rm -rf "$vendor"
mv "$vendor.new" "$vendor"
echo "$want" >"$stamp"
echo "==> front-end assets ready ($(find "$vendor" -type f | wc -l) files)"
