"""The domain's errors. Every message is Chinese and names the field (and row) at fault."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _


class DomainError(Exception):
    """A rule said no. `fields` maps a field name to its message."""

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}


class NotAllowed(DomainError):
    status = 403

    def __init__(self, message: str, *, code: str = "forbidden"):
        super().__init__(message, code=code)


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str):
        super().__init__(message, code="rate_limited")


class Conflict(DomainError):
    status = 409


class NotInScope(DomainError):
    """A row named in a request body that is missing or outside the actor's scope: 404, naming the field."""

    status = 404

    def __init__(self, field: str):
        message = _("%(field)s 不存在或不在您的管辖范围内") % {"field": field}
        super().__init__(message, code="not_found", fields={field: _("不存在或不在您的管辖范围内")})


def lookup(getter, actor, pk, field: str):
    """A row named in a request body, through its scoped `get_*_for`; None stays None.

    Missing and out of scope read the same, so the answer does not reveal that a row exists.
    """
    if pk is None:
        return None
    try:
        return getter(actor, pk)
    except Http404:
        raise NotInScope(field) from None


def from_validation_error(err: ValidationError, field: str) -> DomainError:
    return DomainError(" ".join(err.messages), code=getattr(err, "code", None) or "invalid",
                       fields={field: " ".join(err.messages)})


def require_choice(value: str, choices, *, field: str, label: str) -> str:
    """`value` if it is one of the TextChoices `choices`, else an error naming the field and the words allowed."""
    if value in choices.values:
        return value
    allowed = "、".join(f"{code}({name})" for code, name in choices.choices)
    message = _("%(label)s应为:%(allowed)s") % {"label": label, "allowed": allowed}
    raise DomainError(message, fields={field: message})


__all__ = ["DomainError", "require_choice", "NotAllowed", "RateLimited", "Conflict", "Http404", "NotInScope", "lookup",
           "from_validation_error"]
