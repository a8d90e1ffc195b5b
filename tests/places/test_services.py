import pytest
from django.http import Http404

from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.places import services
from fangkong.places.models import Household, Unit


def test_generator_creates_floors_times_units_times_rooms(staff_a, building_a):
    created = services.building_generate_households(actor=staff_a, building=building_a, floors=6, units=2,
                                                    rooms_per_floor=4)
    assert created == 48
    rooms = Household.objects.filter(building=building_a)
    assert rooms.count() == 48
    assert set(Unit.objects.filter(building=building_a).values_list("number", flat=True)) == {"1", "2"}
    assert {"101", "104", "601", "604"} <= set(rooms.values_list("room", flat=True))
    assert set(rooms.values_list("grid_id", flat=True)) == {building_a.grid_id}


def test_generator_keeps_existing_rooms_and_is_repeatable(staff_a, household_a):
    building = household_a.building
    layout = {"floors": 3, "units": 2, "rooms_per_floor": 1}
    first = services.building_generate_households(actor=staff_a, building=building, **layout)
    again = services.building_generate_households(actor=staff_a, building=building, **layout)
    assert (first, again) == (5, 0)  # unit 2 room 301 existed already
    assert Household.objects.get(pk=household_a.pk).room == "301"


@pytest.mark.parametrize("floors, units, rooms", [(0, 1, 1), ("x", 1, 1), (61, 1, 1), (60, 20, 20)])
def test_generator_refuses_impossible_sizes(staff_a, building_a, floors, units, rooms):
    with pytest.raises(DomainError):
        services.building_generate_households(actor=staff_a, building=building_a, floors=floors, units=units,
                                              rooms_per_floor=rooms)
    assert not Household.objects.filter(building=building_a).exists()


def test_generator_outside_scope_is_not_found(staff_b, building_a):
    with pytest.raises(Http404):
        services.building_generate_households(actor=staff_b, building=building_a, floors=1, units=1, rooms_per_floor=1)


def test_grid_members_cannot_edit_places(grid_member_a, building_a):
    with pytest.raises(NotAllowed):
        services.household_create(actor=grid_member_a, building=building_a, unit_number="1", room="101")


def test_household_create_normalises_and_refuses_duplicates(staff_a, building_a):
    household = services.household_create(actor=staff_a, building=building_a, unit_number="２单元", room=" 502室 ")
    assert (household.unit.number, household.room, household.shorthand) == ("2", "502", "3-2-502")
    with pytest.raises(DomainError) as err:
        services.household_create(actor=staff_a, building=building_a, unit_number="2", room="502")
    assert "room" in err.value.fields


def test_building_numbers_are_normalised_and_unique_per_compound(staff_a, compound_a, grid_a):
    building = services.building_create(actor=staff_a, compound=compound_a, grid=grid_a, number="5号楼")
    assert building.number == "5"
    with pytest.raises(DomainError):
        services.building_create(actor=staff_a, compound=compound_a, grid=grid_a, number="5栋")


def test_moving_a_building_to_another_grid_moves_its_households(staff_a, household_a, community_a):
    from tests.places.factories import GridFactory

    other = GridFactory(community=community_a, name="第二网格")
    services.building_update(actor=staff_a, building=household_a.building, grid=other, number="3")
    assert Household.objects.get(pk=household_a.pk).grid == other
    assert Unit.objects.get(pk=household_a.unit_id).grid == other
    assert AuditEvent.objects.filter(action="update", object_type="building").exists()


def test_building_grid_must_belong_to_the_compounds_community(staff_a, compound_a, grid_b):
    with pytest.raises((DomainError, Http404)):
        services.building_create(actor=staff_a, compound=compound_a, grid=grid_b, number="9")


def test_venue_create_and_update_are_audited(staff_a, community_a):
    venue = services.venue_create(actor=staff_a, community=community_a, name="春雨驾校", kind="driving_school")
    services.venue_update(actor=staff_a, venue=venue, status="closed")
    venue.refresh_from_db()
    assert venue.status == "closed"
    assert list(AuditEvent.objects.filter(object_type="venue").values_list("action", flat=True)) == ["update", "create"]


def test_venue_with_unknown_kind_is_refused(staff_a, community_a):
    with pytest.raises(DomainError) as err:
        services.venue_create(actor=staff_a, community=community_a, name="某店", kind="casino")
    assert "kind" in err.value.fields


def test_only_the_street_admin_creates_communities(street_admin, staff_a, street):
    community = services.community_create(actor=street_admin, street=street, name="新社区")
    assert community.street == street
    with pytest.raises(NotAllowed):
        services.community_create(actor=staff_a, street=street, name="另一个社区")


def test_grid_rename_is_normalised_and_audited_with_the_changed_field(staff_a, grid_a):
    services.grid_update(actor=staff_a, grid=grid_a, name="  第一网格（东）")
    grid_a.refresh_from_db()
    assert grid_a.name == "第一网格(东)"
    event = AuditEvent.objects.get(action="update", object_type="grid")
    assert (event.object_id, event.fields) == (str(grid_a.pk), ["name"])


def test_saving_an_unchanged_grid_writes_nothing(staff_a, grid_a):
    services.grid_update(actor=staff_a, grid=grid_a, name=grid_a.name)
    assert not AuditEvent.objects.filter(action="update").exists()


def test_a_duplicate_grid_name_names_the_field_and_keeps_the_old_name(staff_a, grid_a, community_a):
    from tests.places.factories import GridFactory

    other = GridFactory(community=community_a, name="第二网格")
    with pytest.raises(DomainError) as err:
        services.grid_update(actor=staff_a, grid=other, name="第一网格")
    assert err.value.fields == {"name": "该社区已有同名网格"}
    assert other.name == "第二网格"
    other.refresh_from_db()
    assert other.name == "第二网格"


def test_grids_of_two_communities_may_share_a_name(staff_b, grid_a, grid_b):
    assert grid_a.name == grid_b.name
    assert services.grid_update(actor=staff_b, grid=grid_b, name="第一网格").name == "第一网格"


def test_grid_update_outside_scope_is_not_found_and_grid_members_are_refused(staff_b, grid_member_a, grid_a):
    with pytest.raises(Http404):
        services.grid_update(actor=staff_b, grid=grid_a, name="别的网格")
    with pytest.raises(NotAllowed):
        services.grid_update(actor=grid_member_a, grid=grid_a, name="别的网格")
    grid_a.refresh_from_db()
    assert grid_a.name == "第一网格"


def test_compound_update_audits_only_what_changed(staff_a, compound_a):
    services.compound_update(actor=staff_a, compound=compound_a, name=compound_a.name, address="中专路 ８ 号")
    compound_a.refresh_from_db()
    assert compound_a.address == "中专路 8 号"
    assert AuditEvent.objects.get(action="update", object_type="compound").fields == ["address"]


def test_a_duplicate_compound_name_is_a_field_error(staff_a, compound_a, community_a):
    from tests.places.factories import CompoundFactory

    other = CompoundFactory(community=community_a, name="新华小区")
    with pytest.raises(DomainError) as err:
        services.compound_update(actor=staff_a, compound=other, name=" 驰誉小区 ")
    assert err.value.code == "duplicate"
    assert err.value.fields == {"name": "该社区已有同名小区"}


def test_compound_update_needs_a_name_and_stays_in_scope(staff_a, staff_b, grid_member_a, compound_a):
    with pytest.raises(DomainError) as err:
        services.compound_update(actor=staff_a, compound=compound_a, name="  ")
    assert "name" in err.value.fields
    with pytest.raises(Http404):
        services.compound_update(actor=staff_b, compound=compound_a, name="别处")
    with pytest.raises(NotAllowed):
        services.compound_update(actor=grid_member_a, compound=compound_a, name="别处")


def test_household_renumber_is_normalised_and_audited(staff_a, household_a):
    services.household_update(actor=staff_a, household=household_a, room="３０２室", notes="独居老人")
    household_a.refresh_from_db()
    assert (household_a.shorthand, household_a.notes) == ("3-2-302", "独居老人")
    assert AuditEvent.objects.get(action="update", object_type="household").fields == ["notes", "room"]


def test_a_room_is_unique_within_its_unit_only(staff_a, household_a, building_a):
    same_unit = services.household_create(actor=staff_a, building=building_a, unit_number="2", room="302")
    other_unit = services.household_create(actor=staff_a, building=building_a, unit_number="1", room="302")
    with pytest.raises(DomainError) as err:
        services.household_update(actor=staff_a, household=household_a, room="302")
    assert err.value.fields == {"room": "3号楼2单元已有 302 室"}
    assert household_a.room == "301"
    services.household_update(actor=staff_a, household=other_unit, room="301")
    assert Household.objects.get(pk=other_unit.pk).room == "301"
    assert Household.objects.get(pk=same_unit.pk).room == "302"


def test_household_update_outside_scope_is_not_found(staff_b, grid_member_a, household_a):
    with pytest.raises(Http404):
        services.household_update(actor=staff_b, household=household_a, room="999")
    with pytest.raises(NotAllowed):
        services.household_update(actor=grid_member_a, household=household_a, room="999")
    assert Household.objects.get(pk=household_a.pk).room == "301"


def test_a_refused_venue_change_leaves_the_object_as_stored(staff_a, community_a):
    venue = services.venue_create(actor=staff_a, community=community_a, name="春雨驾校", kind="driving_school")
    with pytest.raises(DomainError):
        services.venue_update(actor=staff_a, venue=venue, name="新名字", kind="casino")
    assert (venue.name, venue.kind) == ("春雨驾校", "driving_school")


def test_generating_households_is_audited_on_the_building(staff_a, building_a):
    services.building_generate_households(actor=staff_a, building=building_a, floors=2, units=1, rooms_per_floor=2)
    event = AuditEvent.objects.get(object_type="building", object_id=str(building_a.pk))
    assert "生成 4 户" in event.object_repr
