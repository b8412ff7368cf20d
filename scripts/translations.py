"""Keep the Chinese catalogues in step with the code: extract the English message ids, merge
them into app/translations/zh_Hans_CN/LC_MESSAGES/ (keeping every translation already there)
and list the ones still untranslated.  Two domains: ``messages`` (Python and templates,
babel.cfg) and ``js`` (the pages' scripts, babel_js.cfg, sent to the page as JSON).

    .venv/bin/python scripts/translations.py          # extract + update, report missing
    .venv/bin/python scripts/translations.py --check  # exit 1 if any message lacks Chinese
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES"
DOMAINS = {"messages": ("babel.cfg", ["-k", "_l", "-k", "N_"]), "js": ("babel_js.cfg", [])}
PYBABEL = [sys.executable, "-m", "babel.messages.frontend", "-q"]


def extract(domain: str, pot: Path) -> None:
    config, keywords = DOMAINS[domain]
    subprocess.run(
        [*PYBABEL, "extract", "-F", config, *keywords,
         "--no-location", "--sort-output", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )  # fmt: skip


def read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def translated(message) -> bool:
    """A translation that compiles: present and not marked fuzzy."""
    if message.fuzzy:
        return False
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def update(domain: str, pot: Path) -> None:
    command = "update" if (LOCALE_DIR / f"{domain}.po").exists() else "init"
    subprocess.run(
        [*PYBABEL, command, "-i", str(pot), "-d", "app/translations", "-D", domain,
         "-l", "zh_Hans_CN", "--no-wrap", "--no-fuzzy-matching"]
        + (["--ignore-obsolete"] if command == "update" else []),
        cwd=ROOT,
        check=True,
    )  # fmt: skip


def untranslated(domain: str, pot: Path) -> list[str]:
    """Message ids in the code that the catalogue lacks or leaves untranslated."""
    path = LOCALE_DIR / f"{domain}.po"
    done = {m.id for m in read(path) if m.id and translated(m)} if path.exists() else set()
    return [f"{domain}: {m.id}" for m in read(pot) if m.id and m.id not in done]


def main() -> int:
    check = "--check" in sys.argv
    lacking = []
    with tempfile.TemporaryDirectory() as tmp:
        for domain in DOMAINS:
            pot = Path(tmp) / f"{domain}.pot"
            extract(domain, pot)
            if not check:
                update(domain, pot)
            lacking += untranslated(domain, pot)
    for message in lacking:
        print(f"untranslated: {message}")
    return 1 if lacking and check else 0


if __name__ == "__main__":
    sys.exit(main())
