"""Client-generated ids: a device names each record it sends, so a retry is stored once."""

import uuid

from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError


def clean_client_id(value, *, field: str = "client_id", required: bool = True) -> uuid.UUID | None:
    """`value` as a UUID; None when it is empty and not required; otherwise an error naming the field."""
    if value in (None, "") and not required:
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        message = _("%(field)s 应为 UUID") % {"field": field}
        raise DomainError(message, fields={field: message}) from None
