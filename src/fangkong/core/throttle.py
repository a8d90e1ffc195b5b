"""Fixed-window rate limits kept in the database, so every app server shares them."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.core.models import Throttle


def hits(key: str, window_seconds: int) -> int:
    row = Throttle.objects.filter(key=key).first()
    if row is None or row.window_start < timezone.now() - datetime.timedelta(seconds=window_seconds):
        return 0
    return row.count


def hit(key: str, window_seconds: int, amount: int = 1) -> int:
    """Count hits for key and return the count within the current window."""
    now = timezone.now()
    try:
        with transaction.atomic():
            Throttle.objects.get_or_create(key=key, defaults={"window_start": now})
    except IntegrityError:
        pass  # a concurrent first hit created the row: count on it below
    with transaction.atomic():
        row = Throttle.objects.select_for_update().get(key=key)
        if row.window_start < now - datetime.timedelta(seconds=window_seconds):
            row.window_start, row.count = now, 0
        row.count += amount
        row.save(update_fields=["window_start", "count"])
        return row.count


def reset(key: str) -> None:
    Throttle.objects.filter(key=key).delete()
