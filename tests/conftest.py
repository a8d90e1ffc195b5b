"""The same cast in every test: who is allowed, who gets 404.

Community A (春雨社区) has grid A with one household; community B (安国路社区) has grid B.
Also here: `race`, which runs calls at once (two people accepting one zone), and the markers
`postgres_only` and `sqlite_only` for behaviour that only one database has.
"""

import threading
from dataclasses import dataclass

import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from fangkong.accounts.models import Role, User
from fangkong.core.errors import DomainError
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

# Timing belongs in bench/: on a busy machine hypothesis would call a slow example a failure.
hypothesis_settings.register_profile("fangkong", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("fangkong")


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


# Two requests at once


@dataclass(frozen=True)
class Outcome:
    """What one call of a race did: returned `value`, or raised `error`."""

    value: object = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def kind(self) -> str:
        """"ok"; a DomainError's code ("conflict", "tube_closed"); or the name of another exception, since the
        database turning a concurrent writer away (SQLite's lock, a PostgreSQL serialization failure) is a
        refusal too."""
        if self.error is None:
            return "ok"
        return self.error.code if isinstance(self.error, DomainError) else type(self.error).__name__


def _race(*calls, timeout: float = 10) -> list[Outcome]:
    outcomes, barrier = [None] * len(calls), threading.Barrier(len(calls))

    def run(n, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[n] = Outcome(value=call())
        except Exception as err:  # noqa: BLE001 - every outcome is returned for the test to judge
            outcomes[n] = Outcome(error=err)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def race():
    """`race(call, call, ...)`: the calls run at once and their outcomes come back in the same order.

    Each call runs in its own thread, so on its own database connection, and all are released together by
    a barrier; each thread closes its connection when done. The threads see only committed rows, so the
    test needs `@pytest.mark.django_db(transaction=True)`.
    """
    return _race


# Behaviour only one database has


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres_only("why")` skips on SQLite, `@pytest.mark.sqlite_only("why")` on PostgreSQL."""
    for marker, vendor, name in (("postgres_only", "postgresql", "PostgreSQL"), ("sqlite_only", "sqlite", "SQLite")):
        found = item.get_closest_marker(marker)
        if found and connection.vendor != vendor:
            why = f": {found.args[0]}" if found.args else ""
            pytest.skip(f"{name} only{why} (this run is on {connection.vendor})")
