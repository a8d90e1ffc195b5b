"""Places endpoints: communities (read), grids, compounds, buildings, households, venues."""

from ninja import Router, Status

from fangkong.core.api import paginated
from fangkong.core.choices import Choice
from fangkong.core.converters import Id
from fangkong.core.errors import lookup
from fangkong.places import queries, services
from fangkong.places.models import Venue
from fangkong.places.schemas import (
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    CommunityOut,
    CompoundIn,
    CompoundOut,
    CompoundPatch,
    GenerateIn,
    GenerateOut,
    GridIn,
    GridOut,
    GridPatch,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    VenueIn,
    VenueOut,
    VenuePatch,
)

router = Router()


def _given(payload, obj, field: str):
    """A PATCH body's value for `field`, or the row's current value when the body leaves it out."""
    value = getattr(payload, field)
    return getattr(obj, field) if value is None else value


@router.get("/communities", response=list[CommunityOut], summary="社区列表")
@paginated
def community_list(request):
    return queries.communities_for(request.auth)


@router.get("/communities/{community_id}", response=CommunityOut, summary="社区详情")
def community_detail(request, community_id: Id):
    return queries.get_community_for(request.auth, community_id)


@router.get("/grids", response=list[GridOut], summary="网格列表")
@paginated
def grid_list(request, community: Id | None = None):
    return queries.grids_for(request.auth, community=community)


@router.get("/grids/{grid_id}", response=GridOut, summary="网格详情")
def grid_detail(request, grid_id: Id):
    return queries.get_grid_for(request.auth, grid_id)


@router.post("/grids", response={201: GridOut}, summary="新建网格")
def grid_create(request, payload: GridIn):
    community = lookup(queries.get_community_for, request.auth, payload.community_id, "community_id")
    return Status(201, services.grid_create(actor=request.auth, community=community, name=payload.name))


@router.patch("/grids/{grid_id}", response=GridOut, summary="修改网格(名称)")
def grid_update(request, grid_id: Id, payload: GridPatch):
    grid = queries.get_grid_for(request.auth, grid_id)
    return services.grid_update(actor=request.auth, grid=grid, name=_given(payload, grid, "name"))


@router.get("/compounds", response=list[CompoundOut], summary="小区列表")
@paginated
def compound_list(request, community: Id | None = None):
    return queries.compounds_for(request.auth, community=community)


@router.get("/compounds/{compound_id}", response=CompoundOut, summary="小区详情")
def compound_detail(request, compound_id: Id):
    return queries.get_compound_for(request.auth, compound_id)


@router.post("/compounds", response={201: CompoundOut}, summary="新建小区")
def compound_create(request, payload: CompoundIn):
    community = lookup(queries.get_community_for, request.auth, payload.community_id, "community_id")
    compound = services.compound_create(actor=request.auth, community=community, name=payload.name,
                                        address=payload.address)
    return Status(201, compound)


@router.patch("/compounds/{compound_id}", response=CompoundOut, summary="修改小区(名称、地址)")
def compound_update(request, compound_id: Id, payload: CompoundPatch):
    compound = queries.get_compound_for(request.auth, compound_id)
    return services.compound_update(actor=request.auth, compound=compound, name=_given(payload, compound, "name"),
                                    address=_given(payload, compound, "address"))


@router.get("/buildings", response=list[BuildingOut], summary="楼栋列表")
@paginated
def building_list(request, compound: Id | None = None, grid: Id | None = None):
    return queries.buildings_for(request.auth, compound=compound, grid=grid)


@router.get("/buildings/{building_id}", response=BuildingOut, summary="楼栋详情")
def building_detail(request, building_id: Id):
    return queries.get_building_for(request.auth, building_id)


@router.post("/buildings", response={201: BuildingOut}, summary="新建楼栋")
def building_create(request, payload: BuildingIn):
    actor = request.auth
    compound = lookup(queries.get_compound_for, actor, payload.compound_id, "compound_id")
    grid = lookup(queries.get_grid_for, actor, payload.grid_id, "grid_id")
    return Status(201, services.building_create(actor=actor, compound=compound, grid=grid, number=payload.number))


@router.patch("/buildings/{building_id}", response=BuildingOut, summary="修改楼栋(楼号、网格)")
def building_update(request, building_id: Id, payload: BuildingPatch):
    actor = request.auth
    building = queries.get_building_for(actor, building_id)
    grid = lookup(queries.get_grid_for, actor, payload.grid_id, "grid_id") or building.grid
    return services.building_update(actor=actor, building=building, grid=grid,
                                    number=payload.number if payload.number is not None else building.number)


@router.post("/buildings/{building_id}/generate", response={201: GenerateOut}, summary="按层数×单元×每层户数生成户")
def building_generate(request, building_id: Id, payload: GenerateIn):
    building = queries.get_building_for(request.auth, building_id)
    created = services.building_generate_households(actor=request.auth, building=building, floors=payload.floors,
                                                    units=payload.units, rooms_per_floor=payload.rooms_per_floor)
    return Status(201, {"created": created})


@router.get("/households", response=list[HouseholdOut], summary="户列表")
@paginated
def household_list(request, building: Id | None = None, unit: Id | None = None):
    return queries.households_for(request.auth, building=building, unit=unit)


@router.get("/households/{household_id}", response=HouseholdOut, summary="户详情")
def household_detail(request, household_id: Id):
    return queries.get_household_for(request.auth, household_id)


@router.post("/households", response={201: HouseholdOut}, summary="新建户")
def household_create(request, payload: HouseholdIn):
    building = lookup(queries.get_building_for, request.auth, payload.building_id, "building_id")
    household = services.household_create(actor=request.auth, building=building, unit_number=payload.unit,
                                          room=payload.room, notes=payload.notes)
    return Status(201, household)


@router.patch("/households/{household_id}", response=HouseholdOut, summary="修改户(房号、备注)")
def household_update(request, household_id: Id, payload: HouseholdPatch):
    household = queries.get_household_for(request.auth, household_id)
    return services.household_update(actor=request.auth, household=household,
                                     room=_given(payload, household, "room"), notes=_given(payload, household, "notes"))


@router.get("/venues", response=list[VenueOut], summary="场所列表(电话脱敏)")
@paginated
def venue_list(request, community: Id | None = None, kind: Choice[Venue.Kind] | None = None,
               status: Choice[Venue.Status] | None = None):
    return queries.venues_for(request.auth, community=community, kind=kind, status=status)


@router.get("/venues/{venue_id}", response=VenueOut, summary="场所详情(电话脱敏)")
def venue_detail(request, venue_id: Id):
    return queries.get_venue_for(request.auth, venue_id)


def _venue_places(actor, values: dict) -> dict:
    """grid_id / compound_id in a body become the scoped Grid / Compound the service expects."""
    for field, getter in (("grid_id", queries.get_grid_for), ("compound_id", queries.get_compound_for)):
        if field in values:
            values[field.removesuffix("_id")] = lookup(getter, actor, values.pop(field), field)
    return values


@router.post("/venues", response={201: VenueOut}, summary="新建场所")
def venue_create(request, payload: VenueIn):
    actor = request.auth
    values = _venue_places(actor, payload.dict())
    community = lookup(queries.get_community_for, actor, values.pop("community_id"), "community_id")
    return Status(201, services.venue_create(actor=actor, community=community, **values))


@router.patch("/venues/{venue_id}", response=VenueOut, summary="修改场所(如状态:开放/限流/关闭)")
def venue_update(request, venue_id: Id, payload: VenuePatch):
    actor = request.auth
    venue = queries.get_venue_for(actor, venue_id)
    changes = payload.dict(exclude_unset=True)
    values = _venue_places(actor, {k: ("" if v is None and k not in ("grid_id", "compound_id") else v)
                                   for k, v in changes.items()})
    return services.venue_update(actor=actor, venue=venue, **values)
