"""Uploaded files: one size limit, one message naming the field."""

from django.conf import settings
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError


def check_upload_size(upload, *, field: str = "file", limit: int | None = None) -> None:
    """Refuse an upload larger than `limit` bytes (settings.LEDGER_MAX_BYTES unless given)."""
    limit = limit or settings.LEDGER_MAX_BYTES
    if upload.size > limit:
        message = _("文件过大:不能超过 %(mb)s MB") % {"mb": _megabytes(limit)}
        raise DomainError(message, code="too_large", fields={field: message})


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g}" if megabytes < 1 else str(round(megabytes))
