"""Photo uploads: checked by content, re-encoded (no EXIF, no GPS), stored as Attachment rows."""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from engine.errors import ValidationError
from engine.models import Attachment, Case

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
STAGES = ("report", "handle", "check")
MAX_SIDE = 2560  # longer side of a stored photo, in pixels
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
THUMB_SIDE = 320


def read_limited(file: FileStorage, max_bytes: int) -> bytes:
    data = file.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(f"the file is larger than {max_bytes // (1024 * 1024) or 1} MB",
                              {"file": "too_large"})
    if not data:
        raise ValidationError("the file is empty", {"file": "empty"})
    return data


def reencode(data: bytes) -> tuple[bytes, str]:
    """Decode an image (JPEG/PNG/WebP only, by content) and encode it afresh without any metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in FORMATS:
                raise ValidationError("only JPEG, PNG and WebP photos are accepted", {"file": "not_an_image"})
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError("the photo has too many pixels", {"file": "too_large"})
            probe.verify()
            img: Image.Image = Image.open(io.BytesIO(data))
            img.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ValidationError("the file is not a readable JPEG, PNG or WebP photo", {"file": "not_an_image"}) from exc
    img = ImageOps.exif_transpose(img)  # keep the picture upright once the EXIF orientation is gone
    if max(img.size) > MAX_SIDE:
        img.thumbnail((MAX_SIDE, MAX_SIDE))
    return _encode(img, fmt), FORMATS[fmt]


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing is copied
    elif fmt == "PNG":
        if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            img = img.convert("RGBA")
        clean = Image.new(img.mode, img.size)
        palette = img.getpalette() if img.mode == "P" else None
        if palette is not None:
            clean.putpalette(palette)
        clean.paste(img)
        clean.save(out, "PNG", optimize=True)  # a fresh image: no text chunks, no eXIf
    else:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.mode else "RGB")
        img.save(out, "WEBP", quality=85)
    return out.getvalue()


def store_upload(session: Session, file: FileStorage, stage: str, uploaded_by: str, max_bytes: int,
                 now: Any) -> Attachment:
    if stage not in STAGES:
        raise ValidationError(f"stage must be one of {', '.join(STAGES)}", {"stage": "unknown"})
    content, content_type = reencode(read_limited(file, max_bytes))
    row = Attachment(case_id=None, token=secrets.token_urlsafe(16), stage=stage, content_type=content_type,
                     size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                     uploaded_by=uploaded_by, uploaded_at=now)
    session.add(row)
    session.flush()
    return row


def thumbnail(content: bytes, content_type: str) -> tuple[bytes, str]:
    img: Image.Image = Image.open(io.BytesIO(content))
    img.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.save(out, "JPEG", quality=80)
    return out.getvalue(), "image/jpeg"


def case_photos(session: Session, case_id: int) -> list[Any]:
    return list(session.execute(
        select(Attachment.token, Attachment.stage, Attachment.uploaded_at, Attachment.content_type)
        .where(Attachment.case_id == case_id).order_by(Attachment.uploaded_at, Attachment.id)))


def attachment_case(session: Session, token: str) -> tuple[Any, Any]:
    """(attachment row without content, its case or None); (None, None) when unknown."""
    att = session.execute(select(Attachment.id, Attachment.case_id, Attachment.uploaded_by, Attachment.content_type)
                          .where(Attachment.token == token)).first()
    if att is None:
        return None, None
    case = session.get(Case, att.case_id) if att.case_id is not None else None
    return att, case
