"""A device's everyday registration by the short path: stored in one statement, or left to the full path.

`sample_register_at_once` must store exactly what `sample_register` would, and step aside (store
nothing, return None) whenever anything is unusual, so that the full path can refuse and explain.
The short path is a PostgreSQL statement; on SQLite it always steps aside.
"""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.core.errors import DomainError, NotInScope
from fangkong.core.models import AuditEvent
from fangkong.people.codes import personal_code
from fangkong.testing import services
from fangkong.testing.models import Sample, TestRound, Tube
from tests.accounts.factories import UserFactory
from tests.people.factories import PersonFactory
from tests.testing.factories import SamplingSiteFactory, TestRoundFactory, TubeFactory

on_postgresql = pytest.mark.postgres_only("the short path is PostgreSQL's")


def _register(actor, round, site, barcode, person, client_id=None, **extra):
    return services.sample_register_at_once(actor=actor, round_id=round.pk, site_id=site.pk, barcode=barcode,
                                            client_id=client_id or uuid.uuid4(), code=personal_code(person), **extra)


def _full_path(actor, round, site, barcode, person, client_id):
    return services.sample_register(actor=actor, round=round, site=site, barcode=barcode, person=person,
                                    client_id=client_id)


@on_postgresql
@pytest.mark.django_db
def test_a_pooled_tube_fills_by_the_short_path_and_closes_at_its_pool_size(medic, round_a, site_a, household_a):
    people = PersonFactory.create_batch(5, household=household_a)
    taken_at = timezone.now() - datetime.timedelta(minutes=2)
    samples = [_register(medic, round_a, site_a, "s-1", person, taken_at=taken_at) for person in people]
    tube = Tube.objects.get(barcode="S-1")
    assert [sample.tube.sample_count for sample in samples] == [1, 2, 3, 4, 5]
    assert samples[-1].tube.status == Tube.Status.CLOSED
    assert (tube.sample_count, tube.status, tube.closed_at, tube.round, tube.site) == (
        5, Tube.Status.CLOSED, taken_at, round_a, site_a)
    stored = Sample.objects.get(pk=samples[0].pk)
    assert (stored.person, stored.household_id, stored.site, stored.sampler, stored.taken_at, stored.client_id) == (
        people[0], household_a.pk, site_a, medic, taken_at, samples[0].client_id)
    events = AuditEvent.objects.filter(object_type="tube", object_id=str(tube.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]


@on_postgresql
@pytest.mark.django_db
def test_an_id_number_or_a_person_id_names_the_person_too(medic, round_a, site_a, household_a):
    first, second = PersonFactory.create_batch(2, household=household_a)
    by_id_number = services.sample_register_at_once(actor=medic, round_id=round_a.pk, site_id=site_a.pk,
                                                    barcode="T", client_id=uuid.uuid4(), id_number=first.id_number)
    by_pk = services.sample_register_at_once(actor=medic, round_id=round_a.pk, site_id=site_a.pk, barcode="T",
                                             client_id=uuid.uuid4(), person_id=second.pk)
    assert (by_id_number.person.pk, by_pk.person.pk) == (first.pk, second.pk)
    assert Tube.objects.get(barcode="T").sample_count == 2


@on_postgresql
@pytest.mark.django_db
def test_a_retry_steps_aside_and_the_full_path_returns_the_stored_sample(medic, round_a, site_a, person_a):
    client_id = uuid.uuid4()
    first = _register(medic, round_a, site_a, "R", person_a, client_id)
    assert _register(medic, round_a, site_a, "R", person_a, client_id) is None
    assert _full_path(medic, round_a, site_a, "R", person_a, client_id).pk == first.pk
    assert Sample.objects.count() == 1 and Tube.objects.get().sample_count == 1


def _closed_round(round, site, person):
    TestRound.objects.filter(pk=round.pk).update(status=TestRound.Status.CLOSED)


def _inactive_site(round, site, person):
    site.active = False
    site.save()


def _barcode_of_another_round(round, site, person):
    TubeFactory(round=TestRoundFactory(community=round.community), site=site, barcode="B")


def _already_sampled(round, site, person):
    TubeFactory(round=round, site=site, barcode="OTHER")
    services.sample_register(actor=UserFactory(role=Role.MEDIC, communities=[round.community]), round=round,
                             site=site, barcode="OTHER", person=person, client_id=uuid.uuid4())


def _full_tube(round, site, person):
    TubeFactory(round=round, site=site, barcode="B", sample_count=round.pool_size, status=Tube.Status.CLOSED)


def _single_person_tubes(round, site, person):
    TestRound.objects.filter(pk=round.pk).update(pool_size=1)


@pytest.mark.django_db
@pytest.mark.parametrize("arrange", [_closed_round, _inactive_site, _barcode_of_another_round, _already_sampled,
                                     _full_tube, _single_person_tubes])
def test_anything_unusual_stores_nothing_and_is_left_to_the_full_path(medic, round_a, site_a, person_a, arrange):
    arrange(round_a, site_a, person_a)
    samples, tubes = Sample.objects.count(), list(Tube.objects.values_list("barcode", "sample_count"))
    assert _register(medic, round_a, site_a, "B", person_a) is None
    assert Sample.objects.count() == samples
    assert list(Tube.objects.values_list("barcode", "sample_count")) == tubes


@pytest.mark.sqlite_only("on PostgreSQL the short path registers")
@pytest.mark.django_db
def test_on_sqlite_the_short_path_always_steps_aside(medic, round_a, site_a, person_a):
    assert _register(medic, round_a, site_a, "S", person_a) is None
    assert not Tube.objects.exists() and not Sample.objects.exists()


@on_postgresql
@pytest.mark.django_db
def test_a_street_admin_and_the_system_administrator_register_by_the_short_path(
        street_admin, admin, round_a, site_a, household_a):
    first, second = PersonFactory.create_batch(2, household=household_a)
    assert _register(street_admin, round_a, site_a, "U", first).sampler == street_admin
    assert _register(admin, round_a, site_a, "U", second).tube.sample_count == 2
    assert Sample.objects.filter(tube__barcode="U").count() == 2


@pytest.mark.django_db
def test_a_person_or_site_of_another_community_is_left_to_the_full_path(medic, round_a, site_a, person_a, person_b,
                                                                         community_b):
    assert _register(medic, round_a, site_a, "X", person_b) is None
    site_b = SamplingSiteFactory(community=community_b)
    assert _register(medic, round_a, site_b, "X", person_a) is None
    assert not Tube.objects.exists() and not Sample.objects.exists()


@pytest.mark.django_db
def test_a_round_outside_the_actors_scope_or_a_team_only_sampler_is_left_to_the_full_path(
        staff_b, volunteer, grid_a, round_a, site_a, person_a):
    grid_staff = UserFactory(role=Role.COMMUNITY_STAFF, grids=[grid_a])
    site_a.team.add(volunteer)
    for actor in (staff_b, grid_staff, volunteer):
        assert _register(actor, round_a, site_a, "Y", person_a) is None
    assert not Tube.objects.exists() and not Sample.objects.exists()


def _device(actor, round, site, barcode, person):
    """A site device's registration as POST /api/v1/samples makes it: the short path, else the full one."""
    return lambda: services.sample_register_from_device(actor=actor, round_id=round.pk, site_id=site.pk,
                                                        barcode=barcode, client_id=uuid.uuid4(),
                                                        code=personal_code(person))


def _statements(captured) -> list[str]:
    """The SQL a call sent, without the savepoints the test's own transaction adds."""
    return [query["sql"] for query in captured if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@on_postgresql
@pytest.mark.django_db
def test_a_device_registration_plainly_allowed_is_one_statement(medic, round_a, site_a, person_a):
    with CaptureQueriesContext(connection) as captured:
        sample = _device(medic, round_a, site_a, "ONE", person_a)()
    assert len(_statements(captured)) == 1
    assert Sample.objects.get().pk == sample.pk and Tube.objects.get(barcode="ONE").sample_count == 1


@pytest.mark.django_db
def test_a_device_registration_the_short_path_steps_aside_from_is_decided_by_the_full_path(
        medic, round_a, site_a, person_a):
    first = _device(medic, round_a, site_a, "F-1", person_a)()
    with pytest.raises(DomainError) as twice:
        _device(medic, round_a, site_a, "F-2", person_a)()
    assert Sample.objects.get().pk == first.pk and twice.value.code == "already_sampled"


@pytest.mark.django_db
def test_a_device_naming_nobody_or_someone_elsewhere_is_told_which_field(medic, round_a, site_a, person_b):
    def register(**person):
        return services.sample_register_from_device(actor=medic, round_id=round_a.pk, site_id=site_a.pk,
                                                    barcode="N", client_id=uuid.uuid4(), **person)

    with pytest.raises(DomainError) as nobody:
        register(code=None, id_number=None)
    with pytest.raises(NotInScope) as elsewhere:
        register(person_id=person_b.pk)
    assert "code" in nobody.value.fields and "person_id" in elsewhere.value.fields
    assert not Tube.objects.exists() and not Sample.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_many_devices_at_one_tube_never_push_it_past_its_pool_size(
        medic, staff_a, round_a, site_a, household_a, race):
    people = PersonFactory.create_batch(8, household=household_a)
    outcomes = race(*(_device(medic if n % 2 else staff_a, round_a, site_a, "CROWD", person)
                      for n, person in enumerate(people)))
    tube = Tube.objects.get(barcode="CROWD")
    stored = [outcome.ok for outcome in outcomes].count(True)
    assert tube.sample_count == tube.samples.count() == stored <= 5
    if connection.vendor == "postgresql":
        assert stored == 5 and tube.status == Tube.Status.CLOSED
        assert sorted(outcome.kind for outcome in outcomes)[-3:] == ["tube_closed"] * 3


@pytest.mark.django_db(transaction=True)
def test_one_person_at_two_devices_at_once_is_sampled_once(medic, staff_a, round_a, site_a, person_a, race):
    outcomes = race(_device(medic, round_a, site_a, "TWIN-1", person_a),
                    _device(staff_a, round_a, site_a, "TWIN-2", person_a))
    assert [outcome.ok for outcome in outcomes].count(True) == 1
    assert Sample.objects.filter(person=person_a).count() == 1
    assert sum(Tube.objects.values_list("sample_count", flat=True)) == 1
