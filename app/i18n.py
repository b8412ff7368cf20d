"""Languages: Simplified Chinese by default, English on request.

Templates and Python mark their words with ``_()`` in English; the Chinese catalogue is
``app/translations/zh_Hans_CN`` (compiled to ``messages.mo`` at set-up).  The choice is kept in
a cookie set by ``/lang/<code>``; without one every page is in Chinese.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import Translations
from flask import request

DEFAULT_LOCALE = "zh_Hans_CN"
LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
COOKIE = "wangge_lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE) if request else None
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def html_lang(locale: str) -> str:
    """The value for <html lang>: zh-CN or en."""
    return "zh-CN" if locale.startswith("zh") else "en"


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; it is translated where shown."""
    return message


@functools.cache
def js_catalogue(locale: str) -> dict[str, str]:
    """The scripts' messages for a locale (the ``js`` domain), for static/js/i18n.js."""
    translations = Translations.load(str(TRANSLATIONS), [locale], domain="js")
    catalogue = getattr(translations, "_catalog", {})
    return {k: v for k, v in catalogue.items() if isinstance(k, str) and k and v}
