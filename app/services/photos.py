"""Checking uploaded photos: what the bytes are, not what the client says they are.

A photo is accepted when its first bytes are JPEG, PNG or WebP, Pillow can parse its
structure, and it is within the size and pixel limits.  Anything else is refused with the
photo's position and the reason, before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from app.errors import InvalidData, PayloadTooLarge

# Largest image accepted, in pixels: a decompression bomb is refused before it is decoded.
MAX_PIXELS = 40_000_000
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class PhotoUpload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedPhoto:
    content_type: str
    data: bytes
    size: int
    sha256: str


def sniff(data: bytes) -> str | None:
    """The image type the bytes start with (JPEG, PNG or WebP), or None."""
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(upload: PhotoUpload, index: int, *, max_bytes: int) -> CheckedPhoto:
    where = {"field": "photos", "index": index, "filename": upload.filename}
    if len(upload.data) > max_bytes:
        raise PayloadTooLarge(
            f"Photo {index + 1} ({upload.filename}) is {len(upload.data) / 1e6:.1f} MB; "
            f"the limit is {max_bytes / 1e6:.0f} MB.",
            details=where,
        )
    if not upload.data:
        raise InvalidData(f"Photo {index + 1} ({upload.filename}) is empty.", details=where)
    declared = sniff(upload.data)
    if declared is None:
        raise InvalidData(
            f"Photo {index + 1} ({upload.filename}) is not a JPEG, PNG or WebP image.",
            details=where,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise InvalidData(
                        f"Photo {index + 1} ({upload.filename}) has {image.width}x"
                        f"{image.height} pixels; the limit is {MAX_PIXELS:,}.",
                        details=where,
                    )
                actual = FORMATS.get(image.format or "")
                image.verify()
    except InvalidData:
        raise
    except Exception:  # Pillow raises many types for a damaged file
        raise InvalidData(
            f"Photo {index + 1} ({upload.filename}) is damaged or not an image.", details=where
        ) from None
    if actual != declared:
        raise InvalidData(
            f"Photo {index + 1} ({upload.filename}) is not a JPEG, PNG or WebP image.",
            details=where,
        )
    return CheckedPhoto(
        declared, upload.data, len(upload.data), hashlib.sha256(upload.data).hexdigest()
    )


def check_photos(
    uploads: Sequence[PhotoUpload], *, max_count: int, max_bytes: int
) -> list[CheckedPhoto]:
    """Check every photo; the first bad one refuses the lot."""
    if len(uploads) > max_count:
        raise InvalidData(
            f"At most {max_count} photos may be attached; {len(uploads)} were sent.",
            details={"field": "photos"},
        )
    return [check_photo(u, i, max_bytes=max_bytes) for i, u in enumerate(uploads)]
