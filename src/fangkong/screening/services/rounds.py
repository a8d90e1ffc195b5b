"""Screening rounds (排查轮次): a community's door or phone visit of every household, pass after pass.

People found who are not registered are added to the household; those arriving from elsewhere are followed.
"""

import datetime

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import Person
from fangkong.people.services import clean_person_data, person_create
from fangkong.places.models import Community, Household
from fangkong.screening.models import Anomaly, HouseholdVisit, ScreeningRound, VisitMethod
from fangkong.screening.permissions import require_round_manager, require_visit_recorder
from fangkong.screening.services.follow_ups import follow_up_open

VISIT_REPEAT_SECONDS = 60
NEW_PERSON_FIELDS = ("name", "id_type", "id_number", "phone", "sex", "relationship", "residency", "notes")
FOLLOWED_ANOMALIES = frozenset({Anomaly.UNREGISTERED_ARRIVAL, Anomaly.RISK_AREA_ARRIVAL})
FOUND_BY_SCREENING = "入户排查发现"


@transaction.atomic
def screening_round_start(*, actor, community: Community, name: str = "", grids=()) -> ScreeningRound:
    """Start round N of a community, for all its households or those of the grids given."""
    require_round_manager(actor, community)
    grids = list(grids)
    if any(grid.community_id != community.pk for grid in grids):
        message = _("所选网格不属于该社区")
        raise DomainError(message, code="bad_grid", fields={"grids": message})
    Community.objects.select_for_update().filter(pk=community.pk).first()
    number = (ScreeningRound.objects.filter(community=community).aggregate(n=Max("number"))["n"] or 0) + 1
    name = normalize_text(name)[:100] or _("第%(n)d轮排查") % {"n": number}
    round = ScreeningRound.objects.create(community=community, name=name, number=number, started_at=timezone.now(),
                                          started_by=actor if actor.pk else None)
    round.grids.set(grids)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=round, fields=["name", "number", "grids"])
    return round


@transaction.atomic
def screening_round_close(*, actor, round: ScreeningRound) -> ScreeningRound:
    require_round_manager(actor, round.community)
    round = ScreeningRound.objects.select_for_update().get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束"), code="round_closed")
    round.closed_at = timezone.now()
    round.save(update_fields=["closed_at", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=round, fields=["closed_at"])
    return round


def _household_in_round(round: ScreeningRound, household: Household) -> bool:
    if household.community_id != round.community_id:
        return False
    grid_ids = set(round.grids.values_list("id", flat=True))
    return not grid_ids or household.grid_id in grid_ids


def _clean_visit(*, method, people_present, anomalies, note) -> tuple[list[str], str]:
    """Check the visit's own values; return the anomalies (deduplicated, in list order) and the note."""
    if method not in VisitMethod.values:
        message = _("排查方式无效,应为入户、电话或未联系上")
        raise DomainError(message, code="bad_method", fields={"method": message})
    if people_present is not None and not (isinstance(people_present, int) and 0 <= people_present <= 99):
        message = _("在户人数应为0到99之间的整数")
        raise DomainError(message, code="bad_people_present", fields={"people_present": message})
    unknown = [str(code) for code in anomalies if code not in Anomaly.values]
    if unknown:
        message = _("未知的异常情况:%(codes)s") % {"codes": "、".join(unknown)}
        raise DomainError(message, code="bad_anomaly", fields={"anomalies": message})
    return [code for code in Anomaly.values if code in anomalies], normalize_text(note)[:300]


def _person_values(entry: dict) -> dict:
    return {field: entry[field] for field in NEW_PERSON_FIELDS if entry.get(field) not in (None, "")}


def _row_error(index: int, err: DomainError) -> DomainError:
    message = _("新发现人员第%(n)d行:%(message)s") % {"n": index, "message": err.message}
    return DomainError(message, code=err.code, fields={"new_persons": message})


def _clean_new_persons(new_persons) -> list[dict]:
    """Validate every new person before anything is written, so a bad row names itself and stores nothing."""
    values = [_person_values(entry) for entry in new_persons]
    for index, entry in enumerate(values, start=1):
        try:
            clean_person_data(**{"name": "", "id_number": "", **entry})
        except DomainError as err:
            raise _row_error(index, err) from None
    return values


def _add_new_persons(*, actor, household: Household, values: list[dict], followed: bool) -> list[Person]:
    persons = []
    for index, entry in enumerate(values, start=1):
        try:
            person = person_create(actor=actor, community=household.community, household=household, **entry)
        except DomainError as err:
            raise _row_error(index, err) from None
        if followed:
            follow_up_open(actor=actor, person=person, reason=FOUND_BY_SCREENING)
        persons.append(person)
    return persons


def _repeated_visit(*, actor, round, household, method, when) -> HouseholdVisit | None:
    """The same visit sent again (a double tap, a retry) within a minute by the same person."""
    window = datetime.timedelta(seconds=VISIT_REPEAT_SECONDS)
    return (HouseholdVisit.objects.filter(round=round, household=household, method=method, visited_by=actor,
                                          visited_at__gte=when - window, visited_at__lte=when + window)
            .order_by("-visited_at", "-id").first())


@transaction.atomic
def household_visit_record(*, actor, round: ScreeningRound, household: Household, method: str,
                           people_present: int | None = None, anomalies=(), note: str = "", new_persons=(),
                           visited_at: datetime.datetime | None = None) -> HouseholdVisit:
    """Record one attempt to reach a household; people found who are not registered are added to it.

    The latest attempt gives the household's status in the round; a not-reached household is
    visited again in the next pass, so the pass number counts the earlier not-reached attempts.
    """
    require_visit_recorder(actor)
    ensure_in_scope(actor, round)
    ensure_in_scope(actor, household)
    if not _household_in_round(round, household):
        raise Http404
    anomalies, note = _clean_visit(method=method, people_present=people_present, anomalies=list(anomalies), note=note)
    when = not_later_than_now(visited_at, field="visited_at", label=_("排查时间"), code="future_visit")
    values = _clean_new_persons(new_persons)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    round = ScreeningRound.objects.get(pk=round.pk)
    if round.closed_at is not None:
        raise Conflict(_("该排查轮次已经结束,不能再登记"), code="round_closed")
    repeated = _repeated_visit(actor=actor, round=round, household=household, method=method, when=when)
    if repeated is not None:
        return repeated
    earlier_misses = HouseholdVisit.objects.filter(round=round, household=household,
                                                   method=VisitMethod.NOT_REACHED).count()
    visit = HouseholdVisit.objects.create(
        round=round, household=household, community_id=household.community_id, grid_id=household.grid_id,
        method=method, pass_number=earlier_misses + 1, people_present=people_present, anomalies=anomalies,
        note=note, visited_by=actor if actor.pk else None, visited_at=when)
    _add_new_persons(actor=actor, household=household, values=values,
                     followed=bool(FOLLOWED_ANOMALIES.intersection(anomalies)))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=visit, object_repr=f"{round.name} {household}",
                 fields=["method", "people_present", "anomalies", "note", *(["new_persons"] if values else [])])
    return visit
