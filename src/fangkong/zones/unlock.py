"""When a zone may be lifted: one pure function from its dates and the policy's rule.

The countdown runs from the last positive found inside the zone (a case linked to it, or a
testing round that was not all negative); a zone drawn with no positive counts from its own
start. Only all-negative rounds held after that last positive count towards the rounds the
policy asks for, so a new positive resets both the days and the rounds.
"""

import datetime
from dataclasses import dataclass

DEFAULT_DAYS_WITHOUT_POSITIVE = 14
DEFAULT_NEGATIVE_ROUNDS = {"sealed": 2, "controlled": 1, "precaution": 0}


@dataclass(frozen=True)
class UnlockRule:
    days_without_positive: int
    negative_rounds: int


@dataclass(frozen=True)
class UnlockStatus:
    last_positive_on: datetime.date
    unlock_on: datetime.date
    rounds_done: int
    rounds_needed: int

    @property
    def rounds_missing(self) -> int:
        return max(self.rounds_needed - self.rounds_done, 0)

    def met(self, today: datetime.date) -> bool:
        return today >= self.unlock_on and self.rounds_missing == 0

    def days_left(self, today: datetime.date) -> int:
        return max((self.unlock_on - today).days, 0)


def unlock_status(*, started_on: datetime.date, positives: list[datetime.date],
                  rounds: list[tuple[datetime.date, bool]], rule: UnlockRule) -> UnlockStatus:
    """The zone's unlock date and round count under `rule`.

    `positives` are the confirmation dates of the cases inside; `rounds` are (date, all
    negative?) pairs. A round that was not all negative resets the countdown like a positive.
    """
    resets = list(positives) + [on for on, negative in rounds if not negative]
    last_positive_on = max(resets) if resets else started_on
    rounds_done = sum(1 for on, negative in rounds if negative and on > last_positive_on)
    return UnlockStatus(
        last_positive_on=last_positive_on,
        unlock_on=last_positive_on + datetime.timedelta(days=rule.days_without_positive),
        rounds_done=rounds_done,
        rounds_needed=rule.negative_rounds,
    )


def stored_status(zone) -> UnlockStatus | None:
    """The countdown a zone keeps (its unlock date and rounds done, and `rounds_needed` as the zone lists
    annotate it), for showing it; None while it has no unlock date."""
    if zone.unlock_on is None:
        return None
    return UnlockStatus(last_positive_on=zone.last_positive_on or zone.unlock_on, unlock_on=zone.unlock_on,
                        rounds_done=zone.negative_rounds_done, rounds_needed=getattr(zone, "rounds_needed", 0))
