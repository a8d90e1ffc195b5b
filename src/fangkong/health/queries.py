"""Scoped reads of observations, health checks, alerts and policies, and the missed-check count."""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.core.scope import scope_of
from fangkong.health.models import (
    AFTERNOON_FROM,
    CheckWindow,
    HealthAlert,
    HealthCheck,
    Observation,
    ObservationPolicy,
    check_window,
)
from fangkong.places.models import Street

WINDOW_CLOSES = {CheckWindow.MORNING: AFTERNOON_FROM, CheckWindow.AFTERNOON: datetime.time(20)}
"""A window counts as elapsed once it has closed: the morning at 12:00, the afternoon at 20:00."""

_ADDRESS_ORDER = ("household__building__number", "household__unit__number", "household__room", "person__name")


def observations_for(actor, *, status: str = "", kind: str = "", grid=None):
    return (Observation.objects.in_scope(actor).narrowed(status=status, kind=kind, household__grid=grid)
            .select_related("person", "community", "household__building", "household__unit", "household__compound")
            .annotate(open_alerts=Count("alerts", filter=Q(alerts__handled_at__isnull=True)))
            .order_by("planned_end_on", "id"))


def get_observation_for(actor, pk) -> Observation:
    observations = observations_for(actor).select_related("cadre", "medic", "police", "volunteer", "started_by",
                                                          "transferred_to", "arrival")
    return get_object_or_404(observations, pk=pk)


def observations_of_person(actor, person) -> list[Observation]:
    """A person's observations, newest first, each with its last checks and its missed-check count."""
    observations = list(observations_for(actor).filter(person=person).order_by("-starts_on", "-id")
                        .prefetch_related("checks"))
    return with_check_counts(observations)


def checks_of_observation(actor, observation):
    return HealthCheck.objects.in_scope(actor).filter(observation=observation).select_related("recorded_by")


def changes_of_observation(observation):
    return observation.changes.select_related("changed_by")


def current_window(now: datetime.datetime | None = None) -> tuple[datetime.date, str]:
    now = now or timezone.now()
    return timezone.localdate(now), check_window(now)


def _window_closes_at(day: datetime.date, window: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, WINDOW_CLOSES[CheckWindow(window)]))


def elapsed_windows(observation: Observation, now: datetime.datetime | None = None) -> list[tuple[datetime.date, str]]:
    """The check windows an observation should have a check in, up to `now`.

    Two windows a day from the start day on; a window has elapsed once it closed (today's morning
    after 12:00, the afternoon after 20:00). On the day the observation was registered, windows
    that closed before it was registered are not counted (nobody could report yet); a start dated
    back counts from its start day. A closed observation counts the days before its end day.
    """
    now = now or timezone.now()
    last_day = timezone.localdate(now)
    if observation.ended_on is not None:
        last_day = min(last_day, observation.ended_on - datetime.timedelta(days=1))
    registered = observation.created_at or now
    registered_same_day = timezone.localdate(registered) == observation.starts_on
    windows = []
    day = observation.starts_on
    while day <= last_day:
        for window in CheckWindow.values:
            closes = _window_closes_at(day, window)
            if closes <= now and not (registered_same_day and day == observation.starts_on and closes <= registered):
                windows.append((day, window))
        day += datetime.timedelta(days=1)
    return windows


def _checked_windows(observation_ids) -> dict[int, set]:
    checked: dict[int, set] = {}
    rows = (HealthCheck.objects.filter(observation_id__in=observation_ids)
            .values_list("observation_id", "day", "window").distinct())
    for observation_id, day, window in rows:
        checked.setdefault(observation_id, set()).add((day, window))
    return checked


def with_check_counts(observations, now: datetime.datetime | None = None) -> list[Observation]:
    """Set `missed_checks` and `days_left` on each observation, with one query for the whole list."""
    observations = list(observations)
    now = now or timezone.now()
    today = timezone.localdate(now)
    checked = _checked_windows([obs.pk for obs in observations])
    for observation in observations:
        done = checked.get(observation.pk, set())
        observation.missed_checks = sum(1 for window in elapsed_windows(observation, now) if window not in done)
        observation.days_left = (observation.planned_end_on - today).days
    return observations


def missed_checks(observation: Observation, until: datetime.datetime | None = None) -> int:
    """Elapsed windows (see elapsed_windows) without a check."""
    return with_check_counts([observation], until)[0].missed_checks


def not_yet_reported(actor, day: datetime.date, window: str):
    """Active observations in scope with no check in the window, in address order (for walking the building)."""
    reported = HealthCheck.objects.filter(observation=OuterRef("pk"), day=day, window=window)
    return (Observation.objects.in_scope(actor).active().filter(starts_on__lte=day).filter(~Exists(reported))
            .select_related("person", "household__building", "household__unit", "household__compound")
            .order_by(*_ADDRESS_ORDER))


def alerts_for(actor, handled: bool | None = False):
    """Alerts in scope: open ones (handled=False), handled ones, or all (None) with the open first."""
    alerts = (HealthAlert.objects.in_scope(actor)
              .select_related("observation__person", "check_record", "handled_by", "household__building",
                              "household__unit")
              .order_by(F("handled_at").asc(nulls_first=True), "-created_at"))
    if handled is None:
        return alerts
    return alerts.filter(handled_at__isnull=not handled)


def get_alert_for(actor, pk) -> HealthAlert:
    return get_object_or_404(alerts_for(actor, handled=None), pk=pk)


def my_alerts(actor):
    """Open alerts of the observations whose team the actor is on."""
    team = Q(observation__cadre=actor) | Q(observation__medic=actor) | Q(observation__police=actor) | Q(
        observation__volunteer=actor)
    return alerts_for(actor).filter(team)


def policies_for(actor):
    return ObservationPolicy.objects.in_scope(actor).select_related("street", "created_by")


def household_observations(actor):
    """A resident's household members under active observation, each with today's reported windows."""
    today = timezone.localdate()
    observations = list(Observation.objects.in_scope(actor).active().select_related("person").order_by("person__id"))
    reported: dict[int, set] = {}
    for observation_id, window in (HealthCheck.objects.filter(observation__in=observations, day=today)
                                   .values_list("observation_id", "window")):
        reported.setdefault(observation_id, set()).add(window)
    for observation in observations:
        observation.reported_windows = reported.get(observation.pk, set())
    return observations


def team_candidates(person):
    """Staff whose scope covers the person's community or grid, for the team pickers."""
    community = person.community
    grid_id = person.household.grid_id if person.household_id else None
    covers = (Q(scope_street_id=community.street_id) | Q(scope_communities=community)
              | (Q(scope_grids=grid_id) if grid_id else Q(pk__in=[])))
    return (get_user_model().objects.filter(covers, is_active=True).exclude(role__in=["", Role.RESIDENT])
            .distinct().order_by("role", "username"))


def staff_for(actor):
    """Staff accounts whose scope meets the actor's: who may be named on a team."""
    scope = scope_of(actor)
    staff = get_user_model().objects.filter(is_active=True).exclude(role__in=["", Role.RESIDENT])
    if scope.everything:
        return staff
    meets = (Q(scope_street_id__in=scope.street_ids) | Q(scope_communities__in=scope.community_ids)
             | Q(scope_grids__in=scope.grid_ids) | Q(scope_grids__community_id__in=scope.community_ids))
    return staff.filter(meets).distinct()


def get_staff_member_for(actor, pk):
    return get_object_or_404(staff_for(actor), pk=pk)


def get_street_for(actor, pk) -> Street:
    return get_object_or_404(Street.objects.in_scope(actor), pk=pk)


# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------
