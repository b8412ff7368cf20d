"""Masking personal data for roles that do not need it, and logging every read of it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from app.models import PersonalDataRead
from app.store.scope import Scope


def mask_phone(phone: str | None) -> str:
    """``13812341234`` -> ``138****1234``; short numbers keep only their last two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:] if digits else ""


# --- personal data in free text ------------------------------------------------------------
#
# People type numbers every way a keyboard allows: ``+86 135 1234 0005``, ``0086-135…``,
# ``135.1234.0005``, full-width ``１３５…``, one digit at a time, ``(0817)6230010``, IDs in
# groups.  ``\d`` matches every Unicode decimal digit (full-width included), and between two
# digits any run of up to three separators (spaces of every width, dashes, dots, slashes,
# brackets) is skipped.  Commas, colons and Chinese text end a number.
_GAP = r"[\s\-\u2010-\u2015\u2212\uff0d.\uff0e\u00b7\u30fb/\\_()\uff08\uff09\[\]\u3010\u3011]{0,3}"
_OPEN, _CLOSE = r"[(\uff08\[\u3010]?", r"[)\uff09\]\u3011]?"
# +86, ００８６, 0086 or a bare 86 before a national number; 86 is only taken as a prefix when a
# full national number follows it.
_COUNTRY = (
    rf"(?:{_OPEN}(?:(?:[+\uff0b]|[0\uff10]{_GAP}[0\uff10]){_GAP})?"
    rf"[8\uff18]{_GAP}[6\uff16]{_CLOSE}{_GAP})"
)


def _digits(count: int) -> str:
    return rf"\d(?:{_GAP}\d){{{count - 1}}}"


_FREE_TEXT_PATTERNS = (
    # Resident ID (居民身份证): 18 characters, the last may be X.
    ("id", re.compile(rf"(?<!\d){_digits(17)}{_GAP}[\dXx\uff38\uff58](?![\dXx])")),
    # The first-generation ID: 15 digits.
    ("id", re.compile(rf"(?<!\d){_digits(15)}(?!\d)")),
    # Mobile: 1[3-9] and nine more digits, with or without the country code.
    (
        "phone",
        re.compile(
            rf"(?<!\d){_COUNTRY}?{_OPEN}[1\uff11]{_GAP}[3-9\uff13-\uff19](?:{_GAP}\d){{9}}(?!\d)"
        ),
    ),
    # Landline with its area code: 0 + 2-3 digits, then a 7-8 digit number (not 0 or 1).
    (
        "phone",
        re.compile(
            rf"(?<!\d){_OPEN}[0\uff10]{_GAP}\d{_GAP}\d(?:{_GAP}\d)?{_CLOSE}{_GAP}"
            rf"[2-9\uff12-\uff19](?:{_GAP}\d){{6,7}}(?!\d)"
        ),
    ),
    # The same from abroad: +86 817 6230010 (the area code loses its 0).
    (
        "phone",
        re.compile(
            rf"(?<!\d){_COUNTRY}{_OPEN}[1-9\uff11-\uff19]{_GAP}\d(?:{_GAP}\d)?{_CLOSE}{_GAP}"
            rf"[2-9\uff12-\uff19](?:{_GAP}\d){{6,7}}(?!\d)"
        ),
    ),
)


def _plain(text: str) -> str:
    """The digits (and a final X) of a match, full-width folded to ASCII."""
    out = []
    for ch in text:
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in "Xx\uff38\uff58":
            out.append("X")
    return "".join(out)


def _is_birth_date(yyyymmdd: str) -> bool:
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def _id_mask(match: re.Match) -> str:
    digits = _plain(match.group(0))
    if len(digits) == 18:
        plausible = digits[0] != "0" and _is_birth_date(digits[6:14])
    else:
        # 15 digits: the birth date is YYMMDD of the 1900s.  Grid codes have 15 digits too
        # (6-digit county + 3 street + 3 community + 3 sequence): their street number (001-099)
        # reads as a birth year 1900-1909, which no living holder of a 15-digit ID has, so
        # those are left alone.
        plausible = (
            digits[0] != "0" and int(digits[6:8]) >= 10 and _is_birth_date("19" + digits[6:12])
        )
    if not plausible:
        return match.group(0)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _phone_mask(match: re.Match) -> str:
    # Only the patterns with a country code match a number starting 86 (national numbers
    # start with 0 or 1), and a landline dialled from abroad gets its area code's 0 back.
    digits = _plain(match.group(0))
    digits = digits[4:] if digits.startswith("0086") else digits
    digits = digits[2:] if digits.startswith("86") else digits
    mobile = len(digits) == 11 and digits[0] == "1"
    return mask_phone(digits if mobile or digits[0] == "0" else "0" + digits)


def mask_free_text(text: str | None) -> str | None:
    """Mask the phone and ID numbers in free text, however they are spelt.

    Mobiles (with +86 / 0086 / 86), landlines with an area code, 18- and 15-digit IDs; full-width
    digits and separators included.  Service numbers (400 / 800, 12345, 110) are not personal
    and stay, as do dates, times, money and codes shorter than a phone number.

    >>> mask_free_text("请联系 +86 135-1234-0005，身份证 5113 8119 8001 0112 3X")
    '请联系 135****0005，身份证 511***********123X'
    >>> mask_free_text("2024-05-01 14:30 网格 511381001001001")
    '2024-05-01 14:30 网格 511381001001001'
    >>> mask_free_text("") == "" and mask_free_text(None) is None
    True
    """
    if not text:
        return text
    for kind, pattern in _FREE_TEXT_PATTERNS:
        text = pattern.sub(_id_mask if kind == "id" else _phone_mask, text)
    return text


def mask_name(name: str | None) -> str:
    """``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def log_personal_read(
    session: Session, scope: Scope, subject: str, ids: Iterable[int], purpose: str
) -> None:
    """Record who read whose personal data; the caller's transaction commits it."""
    ids = list(ids)
    if ids:
        session.add(
            PersonalDataRead(
                user_id=scope.user_id, subject=subject, subject_ids=ids, purpose=purpose
            )
        )
