"""A scanner syncs what it registered offline: each passage answered on its own, stored once, conflicts kept."""

import datetime
import uuid

import pytest
from django.utils import timezone

from fangkong.access import services
from fangkong.access.models import Passage, Reason, Result
from fangkong.core.errors import DomainError
from fangkong.people.codes import personal_code
from tests.access.factories import CheckpointFactory, PassFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def row(gate, who, direction="out", **more):
    code = who if isinstance(who, str) else personal_code(who)
    return {"client_id": str(uuid.uuid4()), "checkpoint_id": gate.pk, "direction": direction, "code": code,
            "offline": True, **more}


def test_a_batch_is_stored_once_and_its_replay_stores_nothing(gate_a, household_a, volunteer):
    people = PersonFactory.create_batch(5, household=household_a)
    rows = [row(gate_a, person, offline_result="allowed") for person in people]

    answers = services.passages_sync(actor=volunteer, rows=rows)
    replay = services.passages_sync(actor=volunteer, rows=rows)

    assert [a["status"] for a in answers] == ["stored"] * 5
    assert [a["status"] for a in replay] == ["duplicate"] * 5
    assert Passage.objects.count() == 5 and all(p.offline for p in Passage.objects.all())
    assert [a["client_id"] for a in answers] == [r["client_id"] for r in rows]


def test_a_row_sent_twice_in_one_batch_is_stored_once(gate_a, person_a, volunteer):
    once = row(gate_a, person_a)

    answers = services.passages_sync(actor=volunteer, rows=[once, dict(once)])

    assert [a["status"] for a in answers] == ["stored", "duplicate"] and Passage.objects.count() == 1


def test_bad_rows_are_answered_on_their_own_and_the_rest_stored(gate_a, person_a, community_b, volunteer):
    elsewhere = CheckpointFactory(community=community_b)
    rows = [row(gate_a, person_a), {**row(gate_a, person_a), "client_id": "nope"},
            row(elsewhere, person_a), {**row(gate_a, person_a), "direction": "up"},
            {**row(gate_a, person_a), "checkpoint_id": "1; drop table"}, row(gate_a, person_a, "in")]

    answers = services.passages_sync(actor=volunteer, rows=rows)

    assert [a["status"] for a in answers] == ["stored", "invalid", "invalid", "invalid", "invalid", "stored"]
    assert "client_id" in answers[1]["message"] and "checkpoint_id" in answers[2]["message"]
    assert Passage.objects.count() == 2


def test_a_forged_code_allowed_offline_is_kept_as_a_conflict(gate_a, volunteer):
    answers = services.passages_sync(actor=volunteer,
                                     rows=[row(gate_a, "FK1:12.1:abc:forged", offline_result="allowed")])

    passage = Passage.objects.get()
    assert answers[0]["status"] == "conflict"
    assert (passage.result, passage.reason, passage.conflict) == (Result.ALLOWED, Reason.CODE_FORGED, True)
    assert "码无效" in passage.conflict_note


def test_a_quota_used_at_another_gate_meanwhile_is_a_conflict_shown_to_the_supervisor(
        gate_a, compound_a, household_a, volunteer, scan):
    north = CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True, name="北门")
    south = CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True, name="南门")
    PassFactory(household=household_a, quota_exits=1, quota_days=3)
    mother, son = PersonFactory.create_batch(2, household=household_a)
    offline_at = timezone.now() - datetime.timedelta(minutes=30)
    scan(north, mother, occurred_at=offline_at - datetime.timedelta(minutes=5))

    synced = [row(south, son, offline_result="allowed", occurred_at=offline_at.isoformat())]

    answers = services.passages_sync(actor=volunteer, rows=synced)
    replayed = services.passages_sync(actor=volunteer, rows=synced)

    stored = Passage.objects.get(person=son)
    assert answers[0]["status"] == "conflict" and answers[0]["result"] == Result.ALLOWED
    assert replayed[0]["status"] == "duplicate" and replayed[0]["conflict_note"] == stored.conflict_note
    assert stored.result == Result.ALLOWED and stored.conflict
    assert "本期外出次数已用完" in stored.conflict_note


def test_a_batch_counts_a_quota_in_the_order_the_exits_happened(compound_a, household_a, volunteer):
    gate = CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True)
    PassFactory(household=household_a, quota_exits=1, quota_days=3)
    first, second = PersonFactory.create_batch(2, household=household_a)
    now = timezone.now()
    late = row(gate, second, occurred_at=(now - datetime.timedelta(minutes=1)).isoformat())
    early = row(gate, first, occurred_at=(now - datetime.timedelta(minutes=20)).isoformat())

    answers = services.passages_sync(actor=volunteer, rows=[late, early])

    assert [(a["result"], a["reason"]) for a in answers] == [
        (Result.PERSUADED_BACK, Reason.QUOTA_USED), (Result.ALLOWED, Reason.PASS)]


def test_a_wrong_clock_far_ahead_keeps_the_passage_at_its_arrival_and_says_so(gate_a, person_a, volunteer):
    future = timezone.now() + datetime.timedelta(days=400)

    answers = services.passages_sync(actor=volunteer, rows=[row(gate_a, person_a, occurred_at=future.isoformat())])

    passage = Passage.objects.get()
    assert answers[0]["status"] == "conflict" and "设备时间" in answers[0]["conflict_note"]
    assert passage.occurred_at <= timezone.now() and passage.conflict


def test_ten_thousand_queued_passages_are_all_stored(gate_a, household_a, volunteer):
    people = PersonFactory.create_batch(20, household=household_a)
    rows = [row(gate_a, people[n % 20], "out" if n % 2 else "in") for n in range(services.BATCH_LIMIT)]

    answers = services.passages_sync(actor=volunteer, rows=rows)

    assert {a["status"] for a in answers} == {"stored"}
    assert Passage.objects.count() == services.BATCH_LIMIT


def test_a_batch_over_the_limit_is_refused_whole(gate_a, person_a, volunteer):
    with pytest.raises(DomainError) as err:
        services.passages_sync(actor=volunteer, rows=[row(gate_a, person_a)] * (services.BATCH_LIMIT + 1))

    assert err.value.code == "batch_too_large" and not Passage.objects.exists()
