"""A device's batch by the short path: stored whole in one statement, or left to the row-by-row path.

On PostgreSQL a batch whose every row is plainly allowed is stored by one statement. Any unusual row
(a replay, a refusal, a single tube) makes it store nothing and step aside, and the row-by-row path
answers each row as before. On SQLite every batch goes row by row; the answers are the same.
"""

import datetime
import uuid

import pytest
from django.utils import timezone

from fangkong.core.models import AuditEvent
from fangkong.people.codes import personal_code
from fangkong.testing import services
from fangkong.testing.models import Sample, Tube
from fangkong.testing.services import batch
from tests.people.factories import PersonFactory
from tests.testing.factories import SamplingSiteFactory, TestRoundFactory, TubeFactory

on_postgresql = pytest.mark.postgres_only("the short path is PostgreSQL's")


@pytest.fixture
def row_by_row(monkeypatch):
    """Rows the row-by-row path parsed: none when the short path stored the batch."""
    parsed = []
    parse = batch._parse_row

    def counting(raw, now):
        parsed.append(raw)
        return parse(raw, now)

    monkeypatch.setattr(batch, "_parse_row", counting)
    return parsed


def _row(round, site, tube, person, **extra):
    return {"client_id": str(uuid.uuid4()), "round_id": round.pk, "site_id": site.pk, "tube": tube,
            "code": personal_code(person), **extra}


@on_postgresql
@pytest.mark.django_db
def test_a_clean_batch_is_stored_whole_by_one_statement(medic, round_a, site_a, household_a, row_by_row):
    # Given a tube opened earlier with two people in it, and a device's batch: three more into it, two into a new one
    people = PersonFactory.create_batch(5, household=household_a)
    earlier = TubeFactory(round=round_a, site=site_a, barcode="OLD-1", sample_count=2)
    six = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    rows = [_row(round_a, site_a, "old-1", person, taken_at=six + datetime.timedelta(minutes=n))
            for n, person in enumerate(people[:3])]
    rows += [_row(round_a, site_a, "NEW-1", person, door_to_door=True) for person in people[3:]]

    answers = services.samples_register(actor=medic, rows=rows)

    # Then every row is stored, without the row-by-row path
    assert answers == [{"client_id": row["client_id"], "status": "stored", "message": ""} for row in rows]
    assert row_by_row == []
    # And the old tube is full and closed as of its last swab, the new one opened at the round and site
    earlier.refresh_from_db()
    assert (earlier.sample_count, earlier.status, earlier.closed_at) == (
        5, Tube.Status.CLOSED, six + datetime.timedelta(minutes=2))
    new = Tube.objects.get(barcode="NEW-1")
    assert (new.round, new.site, new.community, new.pool_size, new.sample_count, new.status, new.opened_by) == (
        round_a, site_a, round_a.community, 5, 2, Tube.Status.OPEN, medic)
    # And each sample is the row's person, household, tube, time and door-to-door flag
    stored = {sample.client_id: sample for sample in Sample.objects.all()}
    first = stored[uuid.UUID(rows[0]["client_id"])]
    assert (first.person, first.household, first.tube, first.site, first.sampler, first.taken_at, first.door_to_door,
            first.resample, first.void) == (people[0], household_a, earlier, site_a, medic, six, False, False, False)
    assert stored[uuid.UUID(rows[4]["client_id"])].door_to_door is True
    # And the tube opened and the tube closed are audited under the round's community, with their barcodes
    events = AuditEvent.objects.filter(object_type="tube").values_list("action", "object_id", "object_repr",
                                                                     "community_id", "actor_id")
    assert sorted(events) == [("create", str(new.pk), "NEW-1", round_a.community_id, medic.pk),
                              ("update", str(earlier.pk), "OLD-1", round_a.community_id, medic.pk)]


def _replayed(medic, round_a, site_a, people):
    stored = _row(round_a, site_a, "R-0", people[0])
    services.samples_register(actor=medic, rows=[stored])
    return [stored, _row(round_a, site_a, "R-1", people[1])], ["duplicate", "stored"]


def _sampled_before(medic, round_a, site_a, people):
    services.samples_register(actor=medic, rows=[_row(round_a, site_a, "B-0", people[0])])
    return [_row(round_a, site_a, "B-1", people[0]), _row(round_a, site_a, "B-1", people[1])], ["refused", "stored"]


def _twice_in_the_batch(medic, round_a, site_a, people):
    return [_row(round_a, site_a, "T-1", people[0]), _row(round_a, site_a, "T-1", people[0])], ["stored", "refused"]


def _no_room_for_all(medic, round_a, site_a, people):
    TubeFactory(round=round_a, site=site_a, barcode="FULL-1", sample_count=4)
    return [_row(round_a, site_a, "FULL-1", person) for person in people[:2]], ["stored", "refused"]


def _tube_of_another_site(medic, round_a, site_a, people):
    TubeFactory(round=round_a, site=SamplingSiteFactory(community=round_a.community), barcode="ELSE-1")
    return [_row(round_a, site_a, "ELSE-1", people[0]), _row(round_a, site_a, "OK-1", people[1])], ["refused", "stored"]


def _single_tube(medic, round_a, site_a, people):
    single = TestRoundFactory(community=round_a.community, pool_size=1)
    return [_row(single, site_a, "ONE-1", people[0]), _row(single, site_a, "ONE-2", people[1])], ["stored", "stored"]


def _person_of_another_community(medic, round_a, site_a, people, person_b):
    return [_row(round_a, site_a, "C-1", people[0]), {**_row(round_a, site_a, "C-1", people[1]), "code": None,
                                                       "person_id": person_b.pk}], ["stored", "refused"]


def _closed_tube(medic, round_a, site_a, people):
    TubeFactory(round=round_a, site=site_a, barcode="SHUT-1", sample_count=1, status=Tube.Status.CLOSED)
    return [_row(round_a, site_a, "SHUT-1", people[0]), _row(round_a, site_a, "OPEN-1", people[1])], ["refused",
                                                                                                    "stored"]


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [_replayed, _sampled_before, _twice_in_the_batch, _no_room_for_all,
                                   _tube_of_another_site, _single_tube, _person_of_another_community, _closed_tube])
def test_a_batch_with_an_unusual_row_stores_nothing_at_once_and_is_answered_row_by_row(
        batch, medic, round_a, site_a, household_a, person_b, row_by_row):
    people = PersonFactory.create_batch(2, household=household_a)
    extra = {"person_b": person_b} if batch is _person_of_another_community else {}
    rows, statuses = batch(medic, round_a, site_a, people, **extra)
    samples_before, counted_before, row_by_row[:] = Sample.objects.count(), _counted(), []

    answers = services.samples_register(actor=medic, rows=rows)

    assert [answer["status"] for answer in answers] == statuses
    assert len(row_by_row) == len(rows)
    assert Sample.objects.count() - samples_before == _counted() - counted_before == statuses.count("stored")
    assert all(tube.sample_count <= tube.pool_size for tube in Tube.objects.all())


def _counted() -> int:
    return sum(Tube.objects.values_list("sample_count", flat=True))


@pytest.mark.sqlite_only("SQLite has no short path")
@pytest.mark.django_db
def test_on_sqlite_every_batch_is_answered_row_by_row(medic, round_a, site_a, household_a, row_by_row):
    people = PersonFactory.create_batch(2, household=household_a)

    answers = services.samples_register(actor=medic, rows=[_row(round_a, site_a, "S-1", p) for p in people])

    assert [answer["status"] for answer in answers] == ["stored", "stored"] and len(row_by_row) == 2
