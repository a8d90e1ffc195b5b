"""Risk areas: the street's list by division code, level and validity window, by hand or imported from a file.

Changing the list re-decides which arrivals count as exposed, and recolours the people whose
exposure moved.
"""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import normalize_text
from fangkong.screening.divisions import covers, enclosing_codes, known_division
from fangkong.screening.models import Arrival, RiskArea, RiskLevel
from fangkong.screening.permissions import require_risk_area_keeper
from fangkong.screening.risk_area_files import read_risk_areas
from fangkong.screening.services.follow_ups import follow_up_refresh


def _risk_window(valid_from, valid_to) -> None:
    if valid_from is None:
        raise DomainError(_("请填写起始日期"), fields={"valid_from": _("必填")})
    if valid_to is not None and valid_to < valid_from:
        message = _("截止日期不能早于起始日期")
        raise DomainError(message, code="bad_window", fields={"valid_to": message})


def _fill_risk_area(area: RiskArea, *, division_code, level, valid_from, valid_to, note) -> None:
    found = known_division(division_code, field="division_code")
    if level not in RiskLevel.values:
        raise DomainError(_("风险等级只能是高、中、低"), fields={"level": _("风险等级不正确")})
    _risk_window(valid_from, valid_to)
    area.division_code, area.division_name = found.code, found.full_name
    area.level, area.valid_from, area.valid_to = level, valid_from, valid_to
    area.note = normalize_text(note)[:200]


def _covers_on(area: RiskArea, origin_code: str, day: datetime.date) -> bool:
    return (covers(area.division_code, origin_code) and area.valid_from <= day
            and (area.valid_to is None or day <= area.valid_to))


def arrival_is_exposed(street, origin_code: str, day: datetime.date) -> bool:
    """Whether an arrival from origin_code on day came from one of the street's risk areas during its window."""
    return (RiskArea.objects.filter(street=street, division_code__in=enclosing_codes(origin_code), valid_from__lte=day)
            .filter(Q(valid_to=None) | Q(valid_to__gte=day)).exists())


def _origins_under(codes) -> Q:
    """Arrivals whose origin lies inside any of the division codes."""
    condition = Q(pk__in=[])
    for code in codes:
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        condition |= Q(origin_code__startswith=prefix)
    return condition


def _recompute_exposure(*, actor, street, codes, reason: str) -> int:
    """Re-decide `exposed` for the street's arrivals from inside the codes; recolour the people whose exposure moved."""
    areas = list(RiskArea.objects.filter(street=street))
    arrivals = list(Arrival.objects.filter(community__street=street).filter(_origins_under(set(codes)))
                    .select_related("person"))
    changed = []
    for arrival in arrivals:
        exposed = any(_covers_on(area, arrival.origin_code, arrival.arrived_on) for area in areas)
        if exposed != arrival.exposed:
            arrival.exposed = exposed
            changed.append(arrival)
    Arrival.objects.bulk_update(changed, ["exposed"])
    for person in {arrival.person_id: arrival.person for arrival in changed}.values():
        follow_up_refresh(actor=actor, person=person, reason=reason)
    return len(changed)


@transaction.atomic
def risk_area_create(*, actor, street, division_code, level, valid_from, valid_to=None, note="") -> RiskArea:
    require_risk_area_keeper(actor, street)
    area = RiskArea(street=street, created_by=actor)
    _fill_risk_area(area, division_code=division_code, level=level, valid_from=valid_from, valid_to=valid_to,
                    note=note)
    area.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=area,
                 fields=["division_code", "level", "valid_from", "valid_to"])
    _recompute_exposure(actor=actor, street=street, codes=[area.division_code],
                        reason=_("新增风险地区:%(a)s") % {"a": area.division_name})
    return area


@transaction.atomic
def risk_area_update(*, actor, risk_area: RiskArea, division_code, level, valid_from, valid_to=None,
                     note="") -> RiskArea:
    """Correct a risk area; arrivals from its old and its new division are re-decided."""
    require_risk_area_keeper(actor, risk_area.street)
    area = RiskArea.objects.select_for_update().get(pk=risk_area.pk)
    before = {name: getattr(area, name) for name in ("division_code", "level", "valid_from", "valid_to", "note")}
    _fill_risk_area(area, division_code=division_code, level=level, valid_from=valid_from, valid_to=valid_to,
                    note=note)
    changed = [name for name, value in before.items() if getattr(area, name) != value]
    if changed:
        area.save()
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=area, fields=changed)
        _recompute_exposure(actor=actor, street=area.street, codes={before["division_code"], area.division_code},
                            reason=_("风险地区变更:%(a)s") % {"a": area.division_name})
    return area


@transaction.atomic
def risk_area_end(*, actor, risk_area: RiskArea, valid_to: datetime.date) -> RiskArea:
    """Lift a risk area from a day on; arrivals after that day no longer count as exposed."""
    require_risk_area_keeper(actor, risk_area.street)
    area = RiskArea.objects.select_for_update().get(pk=risk_area.pk)
    if valid_to is None:
        raise DomainError(_("请填写截止日期"), fields={"valid_to": _("必填")})
    _risk_window(area.valid_from, valid_to)
    area.valid_to = valid_to
    area.save(update_fields=["valid_to", "updated_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=area, fields=["valid_to"])
    _recompute_exposure(actor=actor, street=area.street, codes=[area.division_code],
                        reason=_("风险地区解除:%(a)s") % {"a": area.division_name})
    return area


@transaction.atomic
def risk_areas_import(*, actor, street, file) -> list[RiskArea]:
    """Import a list of risk areas (.xlsx/.csv). All or nothing: any bad row rejects the file, naming every problem."""
    require_risk_area_keeper(actor, street)
    rows = read_risk_areas(getattr(file, "name", "") or "", file.read())
    areas = [risk_area_create(actor=actor, street=street, **values) for values in rows]
    audit.record(actor=actor, action=audit.Action.IMPORT, object_type="riskarea",
                 object_repr=_("导入风险地区 %(n)d 条") % {"n": len(areas)}, fields=["division_code", "level"])
    return areas
