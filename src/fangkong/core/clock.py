"""Times sent by people and devices: when a moment may lie ahead of the server's clock.

A phone or a site device may run a little fast; a moment further ahead than `CLOCK_SKEW` is a
wrong clock or a typing slip, and is refused with the field named.
"""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError

CLOCK_SKEW = datetime.timedelta(minutes=10)


def aware(value: datetime.datetime) -> datetime.datetime:
    """The moment in the site's time zone when it came without one."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def parse_moment(value, *, field: str, label: str) -> datetime.datetime | None:
    """A datetime or an ISO text as an aware moment; None when nothing was sent."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            message = _("%(label)s格式应为 YYYY-MM-DDTHH:MM") % {"label": label}
            raise DomainError(message, fields={field: message})
        value = parsed
    return aware(value)


def not_later_than_now(value: datetime.datetime | None, *, field: str, label: str,
                       now: datetime.datetime | None = None, code: str = "invalid") -> datetime.datetime:
    """`value` (or `now` when none was given), refused when it lies more than CLOCK_SKEW ahead of `now`."""
    now = now or timezone.now()
    if value is None:
        return now
    value = aware(value)
    if value > now + CLOCK_SKEW:
        message = _("%(label)s不能晚于现在") % {"label": label}
        raise DomainError(message, code=code, fields={field: message})
    return value
