"""Checks on uploaded materials: size, and type by content (not by the name or the browser's
claim). Accepted: PDF, JPEG, PNG and OFD (the Chinese fixed-layout format, a ZIP package)."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from onewindow.core.errors import InvalidError
from onewindow.core.i18n import bi

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The extension a stored upload gets, by the type its content was recognised as.
STORED_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/ofd": ".ofd",
}


@dataclass(frozen=True)
class UploadInfo:
    name: str
    size: int
    sha256: str
    content_type: str


def max_bytes() -> int:
    return int(getattr(settings, "ONEWINDOW_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff(head: bytes, f: UploadedFile) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"PK\x03\x04"):
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as z:
                if "OFD.xml" in z.namelist():
                    return "application/ofd"
        except zipfile.BadZipFile:
            return None
        finally:
            f.seek(0)
    return None


def check_upload(f: UploadedFile) -> UploadInfo:
    """Size and content checks; InvalidError (422) with the reason in zh and en."""
    limit = max_bytes()
    size = f.size or 0
    if size > limit:
        raise InvalidError(
            bi(
                f"文件过大：{size // 1024} KB，上限 {limit // 1024} KB",
                f"File too large: {size // 1024} KB, the limit is {limit // 1024} KB",
            ),
            code="upload_too_large",
        )
    if size == 0:
        raise InvalidError(bi("文件为空", "The file is empty"), code="upload_empty")
    f.seek(0)
    head = f.read(16)
    kind = sniff(head, f)
    if kind is None:
        raise InvalidError(
            bi(
                "文件类型不允许：仅接受 PDF、JPEG、PNG、OFD",
                "File type not allowed: only PDF, JPEG, PNG and OFD are accepted",
            ),
            code="upload_type",
        )
    f.seek(0)
    digest = hashlib.sha256()
    for chunk in f.chunks():
        digest.update(chunk)
    f.seek(0)
    name = (f.name or "upload").replace("/", "_").replace("\\", "_")[-200:]
    return UploadInfo(name, size, digest.hexdigest(), kind)
