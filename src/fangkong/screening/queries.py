"""Scoped reads for following people."""

from dataclasses import dataclass

from django.core import signing
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Length
from django.http import Http404
from django.utils import timezone

from fangkong.accounts.models import Role, User
from fangkong.core.scope import get_in_scope
from fangkong.places.models import Community, Grid, Household
from fangkong.screening.colors import colors_handled_by
from fangkong.screening.models import (
    Anomaly,
    Arrival,
    Color,
    ColorChange,
    FollowUp,
    FollowUpContact,
    HouseholdVisit,
    RiskArea,
    ScreeningRound,
    VerificationBatch,
    VerificationItem,
    VisitMethod,
)


# Follow-ups and the four colours
def follow_ups_for(actor, *, color="", grid=None, responsible=None, include_closed=False):
    rows = FollowUp.objects.in_scope(actor).select_related(
        "person__household__compound", "person__household__building", "person__household__unit",
        "person__household__grid", "responsible")
    if not include_closed:
        rows = rows.active()
    return rows.narrowed(risk_color=color, person__household__grid=grid, responsible=responsible)


def get_follow_up_for(actor, pk) -> FollowUp:
    return get_in_scope(follow_ups_for(actor, include_closed=True), pk)


def follow_up_of_person(actor, person) -> FollowUp | None:
    return follow_ups_for(actor, include_closed=True).filter(person=person).first()


def my_follow_ups(actor):
    """Whom this staff member should call or visit: the ones named to them, and unassigned ones of
    the colours their role handles; overdue revisits first, then today's, red before yellow."""
    today = timezone.localdate()
    unassigned = Q(responsible=None, risk_color__in=colors_handled_by(actor))
    rows = follow_ups_for(actor).filter(Q(responsible=actor) | unassigned)
    color_rank = Case(*[When(risk_color=color, then=rank) for rank, color in enumerate(Color.values)],
                      output_field=IntegerField())
    due_rank = Case(When(next_visit_on__lt=today, then=0), When(next_visit_on=today, then=1), default=2,
                    output_field=IntegerField())
    return rows.annotate(due_rank=due_rank, color_rank=color_rank).order_by("due_rank", "color_rank",
                                                                            "next_visit_on", "id")


def color_board(actor, *, community=None):
    """Active follow-ups counted by grid and colour: rows of {"grid", "cells": [(colour, n)], "total"}, and totals."""
    counts = (follow_ups_for(actor).narrowed(community=community)
              .values("person__household__grid", "risk_color").annotate(n=Count("id")))
    grids = {g.pk: g for g in Grid.objects.in_scope(actor).narrowed(community=community).select_related("community")}
    tallies = {grid_id: dict.fromkeys(Color.values, 0) for grid_id in grids}
    for entry in counts:
        tally = tallies.setdefault(entry["person__household__grid"], dict.fromkeys(Color.values, 0))
        tally[entry["risk_color"]] += entry["n"]

    def row(grid_id, tally):
        return {"grid": grids.get(grid_id), "cells": [(Color(c), tally[c]) for c in Color.values],
                "total": sum(tally.values())}

    rows = sorted((row(grid_id, tally) for grid_id, tally in tallies.items()),
                  key=lambda r: (r["grid"] is None, r["grid"].community_id if r["grid"] else 0,
                                 r["grid"].name if r["grid"] else ""))
    column_sums = {c: sum(t[c] for t in tallies.values()) for c in Color.values}
    return rows, row(None, column_sums)


def color_history(actor, follow_up):
    return ColorChange.objects.in_scope(actor).filter(follow_up=follow_up).select_related("changed_by")


def contacts_of(actor, follow_up):
    return FollowUpContact.objects.in_scope(actor).filter(follow_up=follow_up).select_related("made_by")


def responsible_candidates(actor, follow_up):
    """Staff whose scope covers the followed person's community, for the 'responsible' picker."""
    community_id = follow_up.community_id
    return (User.objects.filter(is_active=True).exclude(role__in=["", Role.RESIDENT])
            .filter(Q(scope_communities=community_id) | Q(scope_street__communities=community_id)
                    | Q(scope_grids__community=community_id)).distinct().order_by("role", "username"))


def get_responsible_candidate_for(actor, pk, *, follow_up):
    return get_in_scope(responsible_candidates(actor, follow_up), pk)



# Risk areas and arrivals

def risk_areas_for(actor, *, current_on=None):
    """The street's risk areas; `current_on` keeps those in force on that day."""
    rows = RiskArea.objects.in_scope(actor).select_related("street", "created_by")
    if current_on is not None:
        rows = rows.filter(valid_from__lte=current_on).filter(Q(valid_to=None) | Q(valid_to__gte=current_on))
    return rows


def get_risk_area_for(actor, pk) -> RiskArea:
    return get_in_scope(risk_areas_for(actor), pk)


def arrivals_for(actor, *, community=None, exposed=None, since=None):
    return (Arrival.objects.in_scope(actor)
            .select_related("person", "community", "household__building", "household__unit", "household__compound",
                            "companion_of__person", "reported_by")
            .narrowed(community=community, exposed=exposed, arrived_on__gte=since))


def get_arrival_for(actor, pk) -> Arrival:
    return get_in_scope(arrivals_for(actor), pk)


def arrivals_of_person(actor, person):
    return arrivals_for(actor).filter(person=person)


def companions_of(actor, arrival):
    return arrivals_for(actor).filter(companion_of=arrival).order_by("id")


POSTER_SALT = "arrival-poster"


def poster_token(community) -> str:
    """What a community's arrival poster encodes: its id, signed (the same every time, never expiring),
    so the public page cannot be pointed at another community."""
    return signing.Signer(salt=POSTER_SALT).sign_object({"c": community.pk})


def community_of_poster(token: str) -> Community:
    """The community a poster's signed token names, or 404 for a forged or damaged token."""
    try:
        community_id = signing.Signer(salt=POSTER_SALT).unsign_object(token)["c"]
    except (signing.BadSignature, KeyError, TypeError):
        raise Http404 from None
    return get_in_scope(Community.objects.select_related("street"), community_id)


def household_at(community, building_number: str, unit_number: str, room: str):
    """The community's household at 楼号-单元-房号 (numbers already normalised), for the resident's own form.

    An address is not personal data, so this read is not limited by an actor; it stays inside one community.
    """
    return (Household.objects.filter(community=community, building__number=building_number, unit__number=unit_number,
                                     room=room).select_related("building", "unit").first())


# Verification lists

def batches_for(actor):
    """The lists the actor works on, each counting only the rows in the actor's scope.

    A list belongs to a street or a community, but a street's list reaches a community worker
    or a grid member through its rows, so rows in scope make their list visible too.
    """
    items = VerificationItem.objects.in_scope(actor)
    rows = items.filter(batch=OuterRef("pk")).order_by().values("batch")
    total = rows.annotate(n=Count("pk")).values("n")
    answered = rows.exclude(answer="").annotate(n=Count("pk")).values("n")
    visible = Q(pk__in=VerificationBatch.objects.in_scope(actor).values("pk")) | Q(pk__in=items.values("batch_id"))
    return (VerificationBatch.objects.filter(visible).select_related("community")
            .annotate(total=Coalesce(Subquery(total), 0), answered=Coalesce(Subquery(answered), 0)))


def get_batch_for(actor, pk) -> VerificationBatch:
    return get_in_scope(batches_for(actor), pk)


def items_for(actor, batch: VerificationBatch, *, mine: bool = False, queue: bool = False, unanswered: bool = False):
    """The rows of a list the actor sees (a grid member: their grid's), by line; filters narrow them."""
    rows = (VerificationItem.objects.in_scope(actor).filter(batch=batch)
            .select_related("grid", "community", "answered_by"))
    if mine:
        rows = rows.filter(grid__in=actor.scope_grids.all())
    if queue:
        rows = rows.filter(grid=None)
    if unanswered:
        rows = rows.filter(answer="")
    return rows.order_by("line")


def get_item_for(actor, pk) -> VerificationItem:
    items = VerificationItem.objects.in_scope(actor).select_related("batch", "grid", "community", "answered_by")
    return get_in_scope(items, pk)



# Screening rounds

HOUSEHOLD_STATUSES = ("done", "not_reached", "pending")
_REACHED = (VisitMethod.DOOR, VisitMethod.PHONE)


def rounds_for(actor):
    return ScreeningRound.objects.in_scope(actor).select_related("community", "started_by").prefetch_related("grids")


def get_round_for(actor, pk) -> ScreeningRound:
    return get_in_scope(rounds_for(actor), pk)


def _latest_visit(round: ScreeningRound, field: str):
    visits = HouseholdVisit.objects.filter(round=round, household=OuterRef("pk")).order_by("-visited_at", "-id")
    return Subquery(visits.values(field)[:1])


def _households_in_round(actor, round: ScreeningRound):
    """The round's households that the actor sees, each with its latest visit's method ('' when none)."""
    rows = Household.objects.in_scope(actor).filter(community_id=round.community_id)
    grid_ids = list(round.grids.values_list("id", flat=True))
    if grid_ids:
        rows = rows.filter(grid_id__in=grid_ids)
    return rows.annotate(latest_method=Coalesce(_latest_visit(round, "method"), Value("")))


@dataclass
class GridProgress:
    grid: Grid | None
    total: int = 0
    done: int = 0
    not_reached: int = 0

    @property
    def pending(self) -> int:
        return self.total - self.done - self.not_reached

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0

    @property
    def done_percent(self) -> int:
        return self.percent(self.done)

    @property
    def not_reached_percent(self) -> int:
        return self.percent(self.not_reached)


def round_progress(actor, round: ScreeningRound) -> tuple[list[GridProgress], GridProgress]:
    """Per grid: households in the round, done (latest visit door or phone), not reached, pending.

    Two queries whatever the number of households: one grouped count by grid and latest
    method, one for the grids' names.
    """
    counts = (_households_in_round(actor, round).order_by().values("grid_id", "latest_method")
              .annotate(n=Count("id")))
    rows: dict[int, GridProgress] = {}
    for entry in counts:
        row = rows.setdefault(entry["grid_id"], GridProgress(grid=None))
        row.total += entry["n"]
        if entry["latest_method"] in _REACHED:
            row.done += entry["n"]
        elif entry["latest_method"] == VisitMethod.NOT_REACHED:
            row.not_reached += entry["n"]
    for grid in Grid.objects.filter(pk__in=rows).order_by("name", "id"):
        rows[grid.pk].grid = grid
    ordered = sorted(rows.values(), key=lambda row: (row.grid.name, row.grid.pk))
    total = GridProgress(grid=None, total=sum(r.total for r in ordered), done=sum(r.done for r in ordered),
                         not_reached=sum(r.not_reached for r in ordered))
    return ordered, total


def _status_filter(status: str) -> Q:
    return {"done": Q(latest_method__in=_REACHED), "not_reached": Q(latest_method=VisitMethod.NOT_REACHED),
            "pending": Q(latest_method="")}[status]


def round_households(actor, round: ScreeningRound, *, status: str = "", grid=None, building=None):
    """The round's households for the lists, ordered by building, unit and room as one walks them.

    status: "" (all), "done", "not_reached" (the next pass's list) or "pending". Each row carries
    its member count and its latest visit (method, pass number, when, by whom).
    """
    rows = _households_in_round(actor, round).narrowed(grid=grid, building=building)
    if status:
        rows = rows.filter(_status_filter(status))
    return (rows.select_related("building", "unit", "compound", "grid")
            .annotate(member_count=Count("members", distinct=True),
                      latest_pass=_latest_visit(round, "pass_number"),
                      latest_at=_latest_visit(round, "visited_at"),
                      latest_by=_latest_visit(round, "visited_by__username"))
            .order_by("compound__name", Length("building__number"), "building__number", Length("unit__number"),
                      "unit__number", Length("room"), "room", "id"))


def get_round_household_for(actor, round: ScreeningRound, pk):
    """One household of the round with the same annotations as the list; 404 outside the round or scope."""
    return get_in_scope(round_households(actor, round), pk)


def round_anomalies(actor, round: ScreeningRound) -> list[HouseholdVisit]:
    """Visits that found something (fever, symptoms, an unregistered or risk-area arrival), newest first."""
    visits = list(HouseholdVisit.objects.in_scope(actor).filter(round=round).exclude(anomalies=[])
                  .select_related("household__building", "household__unit", "grid", "visited_by"))
    labels = dict(Anomaly.choices)
    for visit in visits:
        visit.anomaly_labels = [labels[code] for code in visit.anomalies if code in labels]
    return visits
