"""The domain's errors. Every message is Chinese and names the field (and row) at fault."""

from django.core.exceptions import ValidationError
from django.http import Http404


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


def from_validation_error(err: ValidationError, field: str) -> DomainError:
    return DomainError(" ".join(err.messages), code=getattr(err, "code", None) or "invalid", fields={field: " ".join(err.messages)})


__all__ = ["DomainError", "NotAllowed", "RateLimited", "Conflict", "Http404", "from_validation_error"]
