"""The same cast in every test: who is allowed, who gets 404.

Community A (春雨社区) has grid A with one household; community B (安国路社区) has grid B.
"""

import pytest

from fangkong.accounts.models import Role, User
from tests.accounts.factories import PASSWORD, UserFactory
from tests.people.factories import PersonFactory
from tests.places.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    GridFactory,
    HouseholdFactory,
    StreetFactory,
    UnitFactory,
)


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Test accounts sign in hundreds of times; the production hasher's cost buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Background tasks run where they are queued, so a test sees their outcome at once;
    the tests of the queue and the worker (tests/core/test_tasks.py) turn this off."""
    settings.FANGKONG_TASKS_EAGER = True


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def street(db):
    return StreetFactory()


@pytest.fixture
def community_a(street):
    return CommunityFactory(street=street, name="春雨社区")


@pytest.fixture
def community_b(street):
    return CommunityFactory(street=street, name="安国路社区")


@pytest.fixture
def grid_a(community_a):
    return GridFactory(community=community_a, name="第一网格")


@pytest.fixture
def grid_b(community_b):
    return GridFactory(community=community_b, name="第一网格")


@pytest.fixture
def compound_a(community_a):
    return CompoundFactory(community=community_a, name="驰誉小区")


@pytest.fixture
def building_a(compound_a, grid_a):
    return BuildingFactory(compound=compound_a, grid=grid_a, community=compound_a.community, number="3")


@pytest.fixture
def unit_a(building_a):
    return UnitFactory(building=building_a, number="2")


@pytest.fixture
def household_a(unit_a):
    return HouseholdFactory(unit=unit_a, room="301")


@pytest.fixture
def household_b(grid_b):
    compound = CompoundFactory(community=grid_b.community, name="建设小区")
    building = BuildingFactory(compound=compound, grid=grid_b, community=grid_b.community, number="1")
    return HouseholdFactory(unit=UnitFactory(building=building, number="1"), room="101")


@pytest.fixture
def person_a(household_a):
    return PersonFactory(household=household_a, name="张三", phone="13800001234")


@pytest.fixture
def person_a_other_grid(community_a, compound_a):
    """王外网格: in community A and compound A, but in a second grid (not grid_member_a's)."""
    grid = GridFactory(community=community_a, name="第二网格")
    building = BuildingFactory(compound=compound_a, grid=grid, community=community_a, number="9")
    return PersonFactory(household=HouseholdFactory(unit=UnitFactory(building=building, number="1"), room="101"),
                         name="王外网格")


@pytest.fixture
def person_b(household_b):
    return PersonFactory(household=household_b, name="李四")


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("admin", password=PASSWORD)


@pytest.fixture
def street_admin(street):
    user = UserFactory(username="street_admin", role=Role.STREET_ADMIN)
    user.scope_street = street
    user.save()
    return user


@pytest.fixture
def staff_a(community_a):
    return UserFactory(username="staff_a", role=Role.COMMUNITY_STAFF, communities=[community_a])


@pytest.fixture
def staff_b(community_b):
    return UserFactory(username="staff_b", role=Role.COMMUNITY_STAFF, communities=[community_b])


@pytest.fixture
def grid_member_a(grid_a):
    return UserFactory(username="grid_a", role=Role.GRID_MEMBER, grids=[grid_a])


@pytest.fixture
def grid_member_b(grid_b):
    return UserFactory(username="grid_b", role=Role.GRID_MEMBER, grids=[grid_b])


@pytest.fixture
def medic(community_a):
    return UserFactory(username="medic_a", role=Role.MEDIC, communities=[community_a])


@pytest.fixture
def volunteer(community_a):
    return UserFactory(username="volunteer_a", role=Role.VOLUNTEER, communities=[community_a])


@pytest.fixture
def resident(person_a):
    user = UserFactory(username="resident_a", role=Role.RESIDENT)
    user.person = person_a
    user.phone = person_a.phone
    user.save()
    return user
