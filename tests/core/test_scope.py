"""Every scoped read goes through in_scope: who sees which rows."""

from fangkong.people.models import Person
from fangkong.places.models import Building, Community, Compound, Household
from tests.people.factories import PersonFactory
from tests.places.factories import BuildingFactory, GridFactory, HouseholdFactory, UnitFactory


def test_grid_member_sees_only_their_grid(grid_member_a, person_a, person_b):
    assert list(Person.objects.in_scope(grid_member_a)) == [person_a]
    assert list(Household.objects.in_scope(grid_member_a)) == [person_a.household]


def test_grid_member_sees_the_compound_and_community_around_their_grid(grid_member_a, person_a, person_b):
    assert list(Compound.objects.in_scope(grid_member_a)) == [person_a.household.compound]
    assert list(Community.objects.in_scope(grid_member_a)) == [person_a.community]


def test_community_staff_see_their_community_only(staff_b, person_a, person_b):
    assert list(Person.objects.in_scope(staff_b)) == [person_b]
    assert not Building.objects.in_scope(staff_b).filter(pk=person_a.household.building_id).exists()


def test_street_admin_sees_every_community_of_the_street(street_admin, person_a, person_b):
    assert set(Person.objects.in_scope(street_admin)) == {person_a, person_b}


def test_resident_sees_only_their_household(resident, person_a, person_b, household_a):
    neighbour = Person.objects.create(community=household_a.community, household=household_a, name="张四",
                                      id_number="x", id_last4="0000")
    assert set(Person.objects.in_scope(resident)) == {person_a, neighbour}
    assert list(Community.objects.in_scope(resident)) == []


def test_anonymous_and_unscoped_users_see_nothing(django_user_model, person_a):
    nobody = django_user_model.objects.create_user("nobody", password="x" * 10, role="community_staff")
    assert not Person.objects.in_scope(nobody).exists()
    assert not Person.objects.in_scope(None).exists()


def test_system_administrator_sees_everything(admin, person_a, person_b):
    assert Person.objects.in_scope(admin).count() == 2


def test_a_grid_member_does_not_see_the_next_grid_of_the_same_community(client, grid_member_a, person_a, compound_a):
    # Given grid A2 beside grid A in the same community, with a neighbour living there
    grid_a2 = GridFactory(community=compound_a.community, name="第二网格")
    building = BuildingFactory(compound=compound_a, grid=grid_a2, community=compound_a.community, number="4")
    neighbour = PersonFactory(household=HouseholdFactory(unit=UnitFactory(building=building)), name="邻网格居民")
    # Then grid A's member sees only grid A, in the registry, the console and the API
    assert list(Person.objects.in_scope(grid_member_a)) == [person_a]
    client.force_login(grid_member_a)
    assert client.get(f"/people/{neighbour.pk}/").status_code == 404
    assert client.get(f"/api/v1/persons/{neighbour.pk}").status_code == 404
    assert client.get(f"/places/buildings/{building.pk}/").status_code == 404
    assert neighbour.name not in client.get("/people/", {"q": "邻网格"}).content.decode()
