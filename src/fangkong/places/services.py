"""Every write to the place tree. Street and community setup is the administrator's and
street staff's; compounds, buildings, units and households are community staff's."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import ensure_in_scope, forget_scope, scope_of
from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit, Venue
from fangkong.places.numbers import normalize_building_number, normalize_room, normalize_unit_number
from fangkong.places.permissions import may_edit_places

MAX_GENERATED_HOUSEHOLDS = 2000


def _require_place_editor(actor) -> None:
    if not may_edit_places(actor):
        raise NotAllowed(_("您的角色不能修改地点信息"))


def _require_name(value, field: str, label: str) -> str:
    text = normalize_text(value)
    if not text:
        raise DomainError(_("%(label)s不能为空") % {"label": label}, fields={field: _("必填")})
    return text


def _save_unique(obj, field: str, message: str):
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise DomainError(message, code="duplicate", fields={field: message}) from None
    return obj


def _apply_changes(obj, values: dict, field: str, message: str) -> list[str]:
    """Set the values that differ from the stored ones and save; returns the changed field names.

    A duplicate becomes a DomainError on `field`, and the object gets its stored values back,
    so a form page shown again still names the row as it is.
    """
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return []
    stored = {name: getattr(obj, name) for name in changed}
    for name in changed:
        setattr(obj, name, values[name])
    try:
        _save_unique(obj, field, message)
    except DomainError:
        for name, value in stored.items():
            setattr(obj, name, value)
        raise
    return changed


@transaction.atomic
def street_create(*, actor, name: str, code: str = "") -> Street:
    if not actor.is_superuser:
        raise NotAllowed(_("只有系统管理员可以新建街道"))
    street = _save_unique(Street(name=_require_name(name, "name", _("街道名称")), code=normalize_text(code)),
                          "name", _("街道已存在"))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=street, fields=["name"])
    return street


@transaction.atomic
def community_create(*, actor, street: Street, name: str) -> Community:
    if not (actor.is_superuser or street.id in scope_of(actor).street_ids):
        raise NotAllowed(_("只有街道管理员可以新建社区"))
    community = _save_unique(Community(street=street, name=_require_name(name, "name", _("社区名称"))),
                             "name", _("该街道已有同名社区"))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=community, fields=["name"])
    forget_scope(actor)
    return community


@transaction.atomic
def grid_create(*, actor, community: Community, name: str) -> Grid:
    _require_place_editor(actor)
    ensure_in_scope(actor, community)
    grid = _save_unique(Grid(community=community, name=_require_name(name, "name", _("网格名称"))),
                        "name", _("该社区已有同名网格"))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=grid, fields=["name"])
    return grid


@transaction.atomic
def grid_update(*, actor, grid: Grid, name: str) -> Grid:
    """Rename a grid; nothing is written when the name stays the same."""
    _require_place_editor(actor)
    ensure_in_scope(actor, grid)
    changed = _apply_changes(grid, {"name": _require_name(name, "name", _("网格名称"))}, "name",
                             _("该社区已有同名网格"))
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=grid, fields=changed)
    return grid


@transaction.atomic
def compound_create(*, actor, community: Community, name: str, address: str = "") -> Compound:
    _require_place_editor(actor)
    ensure_in_scope(actor, community)
    compound = _save_unique(Compound(community=community, name=_require_name(name, "name", _("小区名称")),
                                     address=normalize_text(address)), "name", _("该社区已有同名小区"))
    audit.record(actor=actor, action=audit.Action.CREATE, obj=compound, fields=["name", "address"])
    return compound


@transaction.atomic
def compound_update(*, actor, compound: Compound, name: str, address: str = "") -> Compound:
    """Rename a compound or change its address; the audit names only what changed."""
    _require_place_editor(actor)
    ensure_in_scope(actor, compound)
    values = {"name": _require_name(name, "name", _("小区名称")), "address": normalize_text(address)}
    changed = _apply_changes(compound, values, "name", _("该社区已有同名小区"))
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=compound, fields=changed)
    return compound


def _check_grid_matches(compound: Compound, grid: Grid) -> None:
    if grid.community_id != compound.community_id:
        raise DomainError(_("网格与小区不属于同一社区"), fields={"grid": _("网格与小区不属于同一社区")})


@transaction.atomic
def building_create(*, actor, compound: Compound, grid: Grid, number: str) -> Building:
    _require_place_editor(actor)
    ensure_in_scope(actor, compound)
    _check_grid_matches(compound, grid)
    building = Building(community_id=compound.community_id, compound=compound, grid=grid,
                        number=normalize_building_number(_require_name(number, "number", _("楼号"))))
    _save_unique(building, "number", _("该小区已有 %(n)s 号楼") % {"n": building.number})
    audit.record(actor=actor, action=audit.Action.CREATE, obj=building, fields=["number", "grid"])
    return building


@transaction.atomic
def building_update(*, actor, building: Building, grid: Grid, number: str) -> Building:
    """Change a building's number or grid; its units and households follow the new grid."""
    _require_place_editor(actor)
    ensure_in_scope(actor, building)
    _check_grid_matches(building.compound, grid)
    changed = []
    new_number = normalize_building_number(_require_name(number, "number", _("楼号")))
    if new_number != building.number:
        building.number = new_number
        changed.append("number")
    if grid.id != building.grid_id:
        building.grid = grid
        changed.append("grid")
        Unit.objects.filter(building=building).update(grid=grid)
        Household.objects.filter(building=building).update(grid=grid)
    if changed:
        _save_unique(building, "number", _("该小区已有 %(n)s 号楼") % {"n": building.number})
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=building, fields=changed)
    return building


def _unit_for(building: Building, number: str) -> tuple[Unit, bool]:
    return Unit.objects.get_or_create(building=building, number=number,
                                      defaults={"community_id": building.community_id, "grid_id": building.grid_id})


@transaction.atomic
def household_create(*, actor, building: Building, unit_number: str, room: str, notes: str = "") -> Household:
    _require_place_editor(actor)
    ensure_in_scope(actor, building)
    unit, _created = _unit_for(building, normalize_unit_number(_require_name(unit_number, "unit", _("单元"))))
    household = Household(community_id=building.community_id, grid_id=building.grid_id,
                          compound_id=building.compound_id, building=building, unit=unit,
                          room=normalize_room(_require_name(room, "room", _("房号"))), notes=normalize_text(notes))
    _save_unique(household, "room", _("%(unit)s已有 %(room)s 室") % {"unit": unit, "room": household.room})
    audit.record(actor=actor, action=audit.Action.CREATE, obj=household, fields=["room"])
    return household


@transaction.atomic
def household_update(*, actor, household: Household, room: str, notes: str = "") -> Household:
    """Renumber a household within its unit or change its notes."""
    _require_place_editor(actor)
    ensure_in_scope(actor, household)
    values = {"room": normalize_room(_require_name(room, "room", _("房号"))), "notes": normalize_text(notes)}
    message = _("%(unit)s已有 %(room)s 室") % {"unit": household.unit, "room": values["room"]}
    changed = _apply_changes(household, values, "room", message)
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=household, fields=changed)
    return household


def _positive(value, field: str, label: str, upper: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= upper:
        message = _("%(label)s应为 1 到 %(upper)d 之间的整数") % {"label": label, "upper": upper}
        raise DomainError(message, fields={field: message})
    return number


@transaction.atomic
def building_generate_households(*, actor, building: Building, floors: int, units: int, rooms_per_floor: int) -> int:
    """Create the rooms of a building: floors × units × rooms per floor, numbered 101, 102 … 601.

    Rooms that exist already are kept; returns how many households were created.
    """
    _require_place_editor(actor)
    ensure_in_scope(actor, building)
    floors = _positive(floors, "floors", _("层数"), 60)
    units = _positive(units, "units", _("单元数"), 20)
    rooms_per_floor = _positive(rooms_per_floor, "rooms_per_floor", _("每层户数"), 20)
    if floors * units * rooms_per_floor > MAX_GENERATED_HOUSEHOLDS:
        raise DomainError(_("一次最多生成 %(n)d 户") % {"n": MAX_GENERATED_HOUSEHOLDS},
                          fields={"floors": _("数量过多")})
    created = []
    for unit_index in range(1, units + 1):
        unit, _new = _unit_for(building, str(unit_index))
        existing = set(Household.objects.filter(unit=unit).values_list("room", flat=True))
        for floor in range(1, floors + 1):
            for room_index in range(1, rooms_per_floor + 1):
                room = f"{floor}{room_index:02d}"
                if room not in existing:
                    created.append(Household(community_id=building.community_id, grid_id=building.grid_id,
                                             compound_id=building.compound_id, building=building, unit=unit, room=room))
    Household.objects.bulk_create(created, batch_size=500)
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=building,
                 object_repr=_("%(b)s 生成 %(n)d 户") % {"b": building, "n": len(created)}, fields=["households"])
    return len(created)


VENUE_FIELDS = ("name", "kind", "status", "grid", "compound", "address", "contact_name", "contact_phone", "notes")


def _validated_venue(venue: Venue) -> Venue:
    venue.name = _require_name(venue.name, "name", _("场所名称"))
    if venue.kind not in Venue.Kind.values:
        raise DomainError(_("场所类型不正确"), fields={"kind": _("场所类型不正确")})
    if venue.status not in Venue.Status.values:
        raise DomainError(_("场所状态不正确"), fields={"status": _("场所状态不正确")})
    for field in ("grid", "compound"):
        related = getattr(venue, field)
        if related is not None and related.community_id != venue.community_id:
            raise DomainError(_("所选网格或小区不属于该社区"), fields={field: _("不属于该社区")})
    return venue


@transaction.atomic
def venue_create(*, actor, community: Community, **values) -> Venue:
    _require_place_editor(actor)
    ensure_in_scope(actor, community)
    venue = _validated_venue(Venue(community=community, **{k: v for k, v in values.items() if k in VENUE_FIELDS}))
    venue.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=venue, fields=list(values))
    return venue


@transaction.atomic
def venue_update(*, actor, venue: Venue, **values) -> Venue:
    _require_place_editor(actor)
    ensure_in_scope(actor, venue)
    changed = [k for k, v in values.items() if k in VENUE_FIELDS and getattr(venue, k) != v]
    if not changed:
        return venue
    stored = {field: getattr(venue, field) for field in changed}
    for field in changed:
        setattr(venue, field, values[field])
    try:
        _validated_venue(venue).save()
    except DomainError:
        for field, value in stored.items():
            setattr(venue, field, value)
        raise
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=venue, fields=changed)
    return venue
