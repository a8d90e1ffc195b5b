"""Scoped reads of observations, health checks, alerts, cases, transfers and policies (and the policy in effect)."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case as CaseWhen
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core.errors import DomainError
from fangkong.core.scope import get_in_scope
from fangkong.health.models import (
    AFTERNOON_FROM,
    Case,
    CaseEvent,
    CheckWindow,
    Contact,
    ContactKind,
    ContactPolicy,
    Destination,
    HealthAlert,
    HealthCheck,
    Observation,
    ObservationKind,
    ObservationPolicy,
    Transfer,
    TransferPassenger,
    check_window,
)
from fangkong.people.models import Person
from fangkong.places.models import Street
from fangkong.zones.models import Zone

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
    return get_in_scope(observations, pk)


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
    return get_in_scope(alerts_for(actor, handled=None), pk)


def my_alerts(actor):
    """Open alerts of the observations whose team the actor is on."""
    team = Q(observation__cadre=actor) | Q(observation__medic=actor) | Q(observation__police=actor) | Q(
        observation__volunteer=actor)
    return alerts_for(actor).filter(team)


def policies_for(actor):
    return ObservationPolicy.objects.in_scope(actor).select_related("street", "created_by")


DEFAULT_DAYS = {ObservationKind.HOME_QUARANTINE: 14, ObservationKind.CENTRAL_QUARANTINE: 14,
                ObservationKind.HOME_MONITORING: 7}


def observation_days(street: Street, kind: str, on: datetime.date) -> int:
    """The days an observation of `kind` starting `on` lasts: the street's policy then in effect, else the default."""
    policy = ObservationPolicy.objects.filter(street=street, kind=kind).in_force_on(on).first()
    return policy.days if policy else DEFAULT_DAYS[ObservationKind(kind)]


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


# ---------------------------------------------------------------------------
# Cases and contacts
# ---------------------------------------------------------------------------

_CASE_ADDRESS = ("person", "community", "household__building", "household__unit", "household__compound")


def cases_for(actor, *, status: str = "", grid=None):
    """Cases in scope, the open ones first, newest confirmation first, each with its active contact count."""
    still_open = CaseWhen(When(status__in=Case.OPEN_STATUSES, then=Value(0)), default=Value(1),
                          output_field=IntegerField())
    return (Case.objects.in_scope(actor).narrowed(status=status, household__grid=grid)
            .select_related(*_CASE_ADDRESS)
            .annotate(contact_count=Count("contacts", filter=Q(contacts__status=Contact.Status.ACTIVE)),
                      still_open=still_open)
            .order_by("still_open", "-confirmed_at", "-id"))


def get_case_for(actor, pk) -> Case:
    return get_in_scope(cases_for(actor).select_related("opened_by"), pk)


def case_counts(actor) -> dict[str, int]:
    """How many cases in scope are in each status (every status present, zero when none)."""
    counts = dict.fromkeys(Case.Status.values, 0)
    for status, number in Case.objects.in_scope(actor).values_list("status").annotate(n=Count("id")).order_by():
        counts[status] = number
    return counts


def case_timeline(actor, case: Case) -> list[CaseEvent]:
    """The case's events. A contact line names the contact and whom they met it through; where either of
    them is outside the actor's scope (another grid, another community), the line says so without names."""
    events = list(case.events.select_related("by", "contact"))
    named = set().union(*map(_contacts_named, events))
    visible = set(Contact.objects.in_scope(actor).filter(pk__in=named).values_list("pk", flat=True))
    for event in events:
        if not _contacts_named(event) <= visible:
            event.note = _("%(kind)s(不在您管辖范围内的人员)") % {"kind": event.contact.get_kind_display()}
    return events


def _contacts_named(event: CaseEvent) -> set[int]:
    """The contacts a timeline line names: its contact and whom they met the case through."""
    return {event.contact_id, event.contact.via_id} - {None} if event.contact_id else set()


def via_choices_for(actor, case: Case):
    """The case's active close contacts the actor sees: whom a secondary contact can have come through."""
    return (Contact.objects.in_scope(actor).filter(case=case, kind=ContactKind.CLOSE, status=Contact.Status.ACTIVE)
            .select_related("person"))


def contacts_of_case(actor, case: Case) -> list[Contact]:
    """The case's contacts as a chain: close contacts, each with `.chain` (its secondary contacts).

    A secondary contact whose close contact is not in the list stands on its own. One query.
    """
    contacts = list(Contact.objects.in_scope(actor).filter(case=case)
                    .select_related("person", "observation", "via__person")
                    .order_by("kind", "person__name", "id"))
    close = {contact.pk: contact for contact in contacts if contact.kind == ContactKind.CLOSE}
    for contact in contacts:
        contact.chain = []
    rows = []
    for contact in contacts:
        parent = close.get(contact.via_id) if contact.kind == ContactKind.SECONDARY else None
        (parent.chain if parent is not None else rows).append(contact)
    return rows


def cases_of_person(actor, person):
    return cases_for(actor).filter(person=person)


def contacts_of_person(actor, person):
    """The cases a person is a contact of, newest first, with the case person and the observation."""
    return (Contact.objects.in_scope(actor).filter(person=person)
            .select_related("case__person", "observation").order_by("-last_exposure_at", "-id"))


def get_contact_for(actor, pk) -> Contact:
    return get_in_scope(Contact.objects.in_scope(actor).select_related("case", "person"), pk)


def zones_of_case(actor, case: Case):
    return Zone.objects.in_scope(actor).filter(cases=case).select_related("compound", "building", "unit__building",
                                                                           "household__unit__building")


def transfers_of_case(actor, case: Case):
    return (Transfer.objects.in_scope(actor).filter(case=case).select_related("destination")
            .annotate(passenger_count=Count("passengers")).order_by("window_start", "id"))


DEFAULT_CONTACT_OBSERVATION = {ContactKind.CLOSE: ObservationKind.CENTRAL_QUARANTINE,
                               ContactKind.SECONDARY: ObservationKind.HOME_QUARANTINE}


def contact_observation_kind(street: Street, kind: str) -> str:
    """The observation a contact of `kind` gets in the street: its ContactPolicy, else the default."""
    policy = ContactPolicy.objects.filter(street=street, kind=kind).first()
    return policy.observation_kind if policy else DEFAULT_CONTACT_OBSERVATION[ContactKind(kind)]


def first_street_for(actor) -> Street | None:
    """The street whose contact policy a community or grid account reads (its own)."""
    return Street.objects.in_scope(actor).order_by("id").first()


@dataclass(frozen=True)
class ContactPolicyRow:
    """A contact kind's observation kind in a street: its policy, or the default when none is set."""

    street_id: int
    kind: str
    observation_kind: str
    policy: ContactPolicy | None

    @property
    def is_default(self) -> bool:
        return self.policy is None

    @property
    def kind_label(self) -> str:
        return ContactKind(self.kind).label

    @property
    def observation_kind_label(self) -> str:
        return ObservationKind(self.observation_kind).label


def contact_policy_rows(street: Street) -> list[ContactPolicyRow]:
    """One row per contact kind, in the kinds' order; the default observation where no policy is set."""
    set_here = ContactPolicy.objects.filter(street=street).select_related("created_by")
    policies = {policy.kind: policy for policy in set_here}
    return [ContactPolicyRow(street.pk, kind.value, policies[kind].observation_kind if kind in policies
                             else DEFAULT_CONTACT_OBSERVATION[kind], policies.get(kind)) for kind in ContactKind]


# ---------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DayCount:
    """People on transfers planned for one day: scheduled, picked up so far, arrived so far."""

    day: datetime.date
    planned: int = 0
    picked_up: int = 0
    arrived: int = 0


MAX_COUNT_DAYS = 366
_PASSENGER_ADDRESS = ("person", "household__building", "household__unit", "household__compound")


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def transfers_for(actor, *, day: datetime.date | None = None, status: str = "", destination=None):
    """Transfers in scope with the passengers and case the actor may see; `day` keeps those planned that day
    and, on today's list, the ones from earlier days still open or done today (a window past midnight).

    A grid account sees a transfer when one passenger lives in its grid, but not the others on it.
    """
    transfers = Transfer.objects.in_scope(actor).narrowed(status=status, destination=destination)
    if day is not None:
        start, end = _day_bounds(day)
        that_day = Q(window_start__gte=start, window_start__lt=end)
        if day == timezone.localdate():
            that_day |= Q(window_start__lt=start) & (
                Q(status__in=[Transfer.Status.PLANNED, Transfer.Status.PICKED_UP]) | Q(picked_up_at__gte=start)
                | Q(arrived_at__gte=start))
        transfers = transfers.filter(that_day)
    passengers = TransferPassenger.objects.in_scope(actor).select_related(*_PASSENGER_ADDRESS).order_by("id")
    case = Case.objects.in_scope(actor).select_related("person")
    return (transfers.select_related("destination")
            .prefetch_related(Prefetch("passengers", queryset=passengers), Prefetch("case", queryset=case))
            .order_by("window_start", "id"))


def get_transfer_for(actor, pk) -> Transfer:
    return get_in_scope(transfers_for(actor), pk)


def transfers_by_status(transfers) -> list[tuple]:
    """(status, its transfers) in the crew's order: planned, picked up, arrived, cancelled; empty groups left out."""
    groups = {status: [] for status in Transfer.Status}
    for transfer in transfers:
        groups[Transfer.Status(transfer.status)].append(transfer)
    return [(status, rows) for status, rows in groups.items() if rows]


def get_persons_for(actor, ids) -> list:
    """The persons named by ids, all in scope, in the order given; one missing or outside scope → 404."""
    wanted = list(dict.fromkeys(int(pk) for pk in ids))
    found = {person.pk: person for person in Person.objects.in_scope(actor).with_address().filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise Http404
    return [found[pk] for pk in wanted]


def destinations_for(actor, *, kind: str = "", active: bool | None = None):
    """Destinations of the actor's street, each with its expected and arrived passengers counted."""
    open_statuses = [Transfer.Status.PLANNED, Transfer.Status.PICKED_UP]
    return (Destination.objects.in_scope(actor).narrowed(kind=kind, active=active).select_related("street")
            .annotate(expected=Count("transfers__passengers", filter=Q(transfers__status__in=open_statuses)),
                      arrived=Count("transfers__passengers", filter=Q(transfers__status=Transfer.Status.ARRIVED)))
            .order_by("kind", "name"))


def get_destination_for(actor, pk) -> Destination:
    return get_in_scope(destinations_for(actor), pk)


def destination_roster(actor, destination: Destination):
    """The site's own list: the people expected (planned or on their way) first, then those arrived, latest first."""
    statuses = [Transfer.Status.PLANNED, Transfer.Status.PICKED_UP, Transfer.Status.ARRIVED]
    return (TransferPassenger.objects.in_scope(actor)
            .filter(transfer__destination=destination, transfer__status__in=statuses)
            .select_related("transfer", "community", *_PASSENGER_ADDRESS)
            .order_by(F("transfer__arrived_at").desc(nulls_first=True), "transfer__window_start", "id"))


TRANSFER_COUNT_DAYS = 14


def transfer_counts_window(end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The fortnight ending on `end` that the transfer counts show when no start is given."""
    return end - datetime.timedelta(days=TRANSFER_COUNT_DAYS - 1), end


def transfer_counts_by_day(actor, start: datetime.date, end: datetime.date) -> list[DayCount]:
    """Per day from start to end: the people on transfers planned that day (cancelled ones left out), how many
    of them were picked up and how many arrived; one grouped query."""
    if end < start or (end - start).days >= MAX_COUNT_DAYS:
        message = _("日期范围应为 1–%(n)s 天,且结束不早于开始") % {"n": MAX_COUNT_DAYS}
        raise DomainError(message, fields={"end": message})
    first, _end = _day_bounds(start)
    _start, last = _day_bounds(end)
    done = [Transfer.Status.PICKED_UP, Transfer.Status.ARRIVED]
    rows = (TransferPassenger.objects.in_scope(actor).exclude(transfer__status=Transfer.Status.CANCELLED)
            .filter(transfer__window_start__gte=first, transfer__window_start__lt=last)
            .annotate(day=TruncDate("transfer__window_start", tzinfo=timezone.get_current_timezone()))
            .values("day")
            .annotate(planned=Count("id"), picked_up=Count("id", filter=Q(transfer__status__in=done)),
                      arrived=Count("id", filter=Q(transfer__status=Transfer.Status.ARRIVED)))
            .order_by("day"))
    counted = {row["day"]: DayCount(**row) for row in rows}
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    return [counted.get(day, DayCount(day)) for day in days]
