"""Two samplers at once: a tube never goes past its pool size, a person is never sampled twice, a retry lands once.

On SQLite a concurrent writer may be turned away by the database lock; that counts as the loser's refusal.
On PostgreSQL the tube row lock and the partial unique constraint decide.
"""

import uuid

import pytest
from django.db import connection

from fangkong.testing import services
from fangkong.testing.models import Sample, Tube
from tests.people.factories import PersonFactory
from tests.testing.factories import TubeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _adder(actor, tube, person, client_id=None):
    return lambda: services.sample_add(actor=actor, tube=tube, person=person, client_id=client_id or uuid.uuid4())


def test_two_samplers_filling_the_last_place_close_the_tube_exactly_at_pool_size(
        medic, staff_a, round_a, site_a, household_a, race):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="LAST")
    for person in PersonFactory.create_batch(4, household=household_a):
        services.sample_add(actor=medic, tube=tube, person=person, client_id=uuid.uuid4())
    late = PersonFactory.create_batch(2, household=household_a)
    outcomes = race(_adder(medic, tube, late[0]), _adder(staff_a, tube, late[1]))
    tube.refresh_from_db()
    kinds = [outcome.kind for outcome in outcomes]
    assert kinds.count("ok") == 1
    assert "tube_closed" in kinds or connection.vendor == "sqlite"
    assert (tube.sample_count, tube.status) == (5, Tube.Status.CLOSED)
    assert tube.samples.count() == 5


def test_many_samplers_at_one_tube_never_push_it_past_its_pool_size(
        medic, staff_a, round_a, site_a, household_a, race):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="CROWD")
    people = PersonFactory.create_batch(8, household=household_a)
    outcomes = race(*(_adder(medic if n % 2 else staff_a, tube, person) for n, person in enumerate(people)))
    tube.refresh_from_db()
    stored = [outcome.ok for outcome in outcomes].count(True)
    assert tube.sample_count == tube.samples.count() == stored <= 5
    if connection.vendor == "postgresql":
        assert stored == 5 and tube.status == Tube.Status.CLOSED


def test_one_person_at_two_tubes_at_once_is_sampled_once(medic, staff_a, round_a, site_a, person_a, race):
    first = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="TWIN-1")
    second = services.tube_open(actor=staff_a, round=round_a, site=site_a, barcode="TWIN-2")
    outcomes = race(_adder(medic, first, person_a), _adder(staff_a, second, person_a))
    assert [outcome.ok for outcome in outcomes].count(True) == 1
    assert Sample.objects.filter(person=person_a).count() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.sample_count + second.sample_count == 1


def test_the_same_client_id_sent_twice_at_once_stores_one_sample(medic, round_a, site_a, person_a, race):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="RETRY")
    client_id = uuid.uuid4()
    outcomes = race(_adder(medic, tube, person_a, client_id), _adder(medic, tube, person_a, client_id))
    stored = {outcome.value.pk for outcome in outcomes if outcome.ok}
    assert len(stored) == 1 and Sample.objects.count() == 1
    if connection.vendor == "postgresql":
        assert [outcome.kind for outcome in outcomes] == ["ok", "ok"]
    tube.refresh_from_db()
    assert tube.sample_count == 1


def test_a_batch_replayed_at_once_stores_nothing_twice(medic, round_a, site_a, household_a, race):
    people = PersonFactory.create_batch(4, household=household_a)
    rows = [{"client_id": str(uuid.uuid4()), "round_id": round_a.pk, "site_id": site_a.pk, "tube": "REPLAY",
             "person_id": person.pk} for person in people]

    def send():
        return services.samples_register(actor=medic, rows=rows)

    race(send, send)
    assert Sample.objects.count() == 4
    assert Tube.objects.get(barcode="REPLAY").sample_count == 4


def test_two_batches_into_one_tube_at_once_never_push_it_past_its_pool_size(
        medic, staff_a, round_a, site_a, household_a, race):
    # Given a five-person tube and two devices catching up with three people each for it
    TubeFactory(round=round_a, site=site_a, barcode="RACE")
    people = PersonFactory.create_batch(6, household=household_a)
    batches = [[{"client_id": str(uuid.uuid4()), "round_id": round_a.pk, "site_id": site_a.pk, "tube": "RACE",
                 "person_id": person.pk} for person in group] for group in (people[:3], people[3:])]

    race(*(lambda rows=rows, actor=actor: services.samples_register(actor=actor, rows=rows)
           for rows, actor in zip(batches, (medic, staff_a), strict=True)))

    # Then the tube holds at most five, counted exactly
    tube = Tube.objects.get(barcode="RACE")
    assert tube.sample_count == tube.samples.count() <= 5
    if connection.vendor == "postgresql":
        assert tube.sample_count == 5 and tube.status == Tube.Status.CLOSED
