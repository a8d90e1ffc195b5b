"""Sampling: tubes by barcode, people by personal code or ID number, pool size, once per round, undo and close."""

import datetime
import uuid

import pytest
from django.core import signing
from django.utils import timezone

from fangkong.core.clock import CLOCK_SKEW
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.people.codes import personal_code
from fangkong.testing import queries, services
from fangkong.testing.models import ResampleTask, Sample, Tube
from fangkong.testing.services import batch
from tests.people.factories import PersonFactory
from tests.testing.factories import ResampleTaskFactory, SamplingSiteFactory, TestRoundFactory, TubeFactory

pytestmark = pytest.mark.django_db


def _add(actor, tube, person, **extra):
    return services.sample_add(actor=actor, tube=tube, person=person, client_id=uuid.uuid4(), **extra)


def test_a_medic_opens_a_tube_by_its_barcode_and_it_is_audited(medic, round_a, site_a):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="  ab-0001 ")
    assert tube.barcode == "AB-0001" and tube.pool_size == 5 and tube.status == Tube.Status.OPEN
    assert AuditEvent.objects.filter(object_type="tube", object_id=str(tube.pk), action="create").exists()


def test_a_used_barcode_is_refused_naming_round_site_and_time(medic, round_a, site_a, community_a):
    services.tube_open(actor=medic, round=round_a, site=site_a, barcode="AB-0001")
    later = TestRoundFactory(community=community_a, name="第二轮")
    with pytest.raises(Conflict) as refused:
        services.tube_open(actor=medic, round=later, site=site_a, barcode="ab-0001")
    assert round_a.name in refused.value.message and "春雨广场" in refused.value.message


def test_a_closed_round_or_a_site_of_another_community_opens_no_tube(medic, round_a, site_a, community_b):
    with pytest.raises(DomainError):
        services.tube_open(actor=medic, round=round_a, site=SamplingSiteFactory(community=community_b), barcode="X1")
    round_a.status = round_a.Status.CLOSED
    round_a.save()
    with pytest.raises(DomainError):
        services.tube_open(actor=medic, round=round_a, site=site_a, barcode="X2")
    assert not Tube.objects.exists()


def test_a_volunteer_samples_only_on_a_team_they_belong_to(volunteer, round_a, site_a):
    with pytest.raises(NotAllowed):
        services.tube_open(actor=volunteer, round=round_a, site=site_a, barcode="V1")
    site_a.team.add(volunteer)
    assert services.tube_open(actor=volunteer, round=round_a, site=site_a, barcode="V1").pk


def test_a_scanned_code_or_a_typed_id_number_names_the_person(medic, round_a, person_a):
    assert queries.person_for_scan(medic, round_a, personal_code(person_a)) == person_a
    assert queries.person_for_scan(medic, round_a, f" {person_a.id_number.lower()} ") == person_a


def test_a_code_of_another_community_is_refused(medic, round_a, person_b):
    with pytest.raises(DomainError) as refused:
        queries.person_for_scan(medic, round_a, personal_code(person_b))
    assert refused.value.message == "该个人码不属于本社区"


def test_an_id_number_registered_in_another_community_is_unknown_here(medic, round_a, person_b):
    with pytest.raises(DomainError) as refused:
        queries.person_for_scan(medic, round_a, person_b.id_number)
    assert refused.value.code == "unknown_person"


def test_a_forged_or_expired_code_is_refused_clearly(medic, round_a, person_a, settings):
    code = personal_code(person_a)
    with pytest.raises(DomainError) as forged:
        queries.person_for_scan(medic, round_a, code[:-3] + "abc")
    assert forged.value.code == "code_forged"
    settings.FANGKONG_PERSONAL_CODE_DAYS = 0
    old = signing.TimestampSigner(salt="fangkong.personal-code")
    old.timestamp = lambda: signing.b62_encode(int(timezone.now().timestamp()) - 3600)
    with pytest.raises(DomainError) as expired:
        queries.person_for_scan(medic, round_a, "FK1:" + old.sign(f"{person_a.pk}.{person_a.community_id}"))
    assert expired.value.code == "code_expired"


def test_an_unknown_id_number_or_text_is_a_clear_error(medic, round_a):
    with pytest.raises(DomainError) as unknown:
        queries.person_for_scan(medic, round_a, "110101198001010000")
    with pytest.raises(DomainError) as garbage:
        queries.person_for_scan(medic, round_a, "hello")
    assert unknown.value.code == "unknown_person" and garbage.value.code == "not_a_code"


def test_the_tube_closes_itself_at_its_pool_size(medic, round_a, site_a, household_a):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="P5")
    people = PersonFactory.create_batch(5, household=household_a)
    for person in people:
        _add(medic, tube, person, door_to_door=True)
    tube.refresh_from_db()
    assert tube.sample_count == 5 and tube.status == Tube.Status.CLOSED and tube.closed_at
    sample = Sample.objects.get(person=people[0])
    assert (sample.site, sample.sampler, sample.door_to_door, sample.household) == (site_a, medic, True, household_a)
    with pytest.raises(DomainError) as closed:
        _add(medic, tube, PersonFactory(household=household_a))
    assert closed.value.code == "tube_closed"


def test_the_same_client_id_twice_stores_one_sample(medic, round_a, site_a, person_a):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="C1")
    client_id = uuid.uuid4()
    first = services.sample_add(actor=medic, tube=tube, person=person_a, client_id=client_id)
    again = services.sample_add(actor=medic, tube=tube, person=person_a, client_id=str(client_id))
    assert first.pk == again.pk and Sample.objects.count() == 1
    tube.refresh_from_db()
    assert tube.sample_count == 1


def test_a_person_sampled_twice_in_a_round_is_refused_with_time_and_site(medic, round_a, site_a, person_a):
    first_tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="D1")
    _add(medic, first_tube, person_a)
    other = services.tube_open(actor=medic, round=round_a, site=SamplingSiteFactory(community=round_a.community),
                               barcode="D2")
    with pytest.raises(Conflict) as twice:
        _add(medic, other, person_a)
    assert "春雨广场" in twice.value.message and "张三" in twice.value.message
    other.refresh_from_db()
    assert other.sample_count == 0


def test_an_open_resample_task_lets_a_single_tube_sample_the_person_again(medic, round_a, site_a, person_a):
    pooled = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="R1")
    _add(medic, pooled, person_a)
    task = ResampleTaskFactory(tube=pooled, person=person_a)
    single = TubeFactory(round=round_a, site=site_a, pool_size=1, barcode="R2")
    again = _add(medic, single, person_a)
    task.refresh_from_db()
    single.refresh_from_db()
    assert again.resample and task.status == ResampleTask.Status.DONE and task.sample == again
    assert single.status == Tube.Status.CLOSED


def test_undo_takes_back_the_samplers_last_person(medic, round_a, site_a, household_a):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="U1")
    first, second = PersonFactory.create_batch(2, household=household_a)
    _add(medic, tube, first)
    _add(medic, tube, second)
    undone = services.sample_undo_last(actor=medic, tube=tube)
    tube.refresh_from_db()
    assert undone.person == second and tube.sample_count == 1
    assert list(Sample.objects.values_list("person", flat=True)) == [first.pk]
    assert AuditEvent.objects.filter(object_type="sample", action="delete").exists()


def test_a_tube_is_closed_by_hand_but_not_when_empty(medic, round_a, site_a, person_a):
    tube = services.tube_open(actor=medic, round=round_a, site=site_a, barcode="H1")
    with pytest.raises(DomainError):
        services.tube_close(actor=medic, tube=tube)
    _add(medic, tube, person_a)
    closed = services.tube_close(actor=medic, tube=tube)
    assert closed.status == Tube.Status.CLOSED
    with pytest.raises(Conflict):
        services.tube_close(actor=medic, tube=tube)


def test_a_registration_opens_an_unknown_tube_and_reuses_it(medic, round_a, site_a, household_a):
    first, second = PersonFactory.create_batch(2, household=household_a)
    one = services.sample_register(actor=medic, round=round_a, site=site_a, barcode="n1", person=first,
                                   client_id=uuid.uuid4())
    two = services.sample_register(actor=medic, round=round_a, site=site_a, barcode="N1", person=second,
                                   client_id=uuid.uuid4(), taken_at=timezone.now() - datetime.timedelta(minutes=3))
    assert one.tube_id == two.tube_id and Tube.objects.get().sample_count == 2


def test_a_device_clock_a_little_fast_is_taken_but_one_an_hour_ahead_is_refused(medic, round_a, site_a,
                                                                                household_a):
    # Given two devices, one whose clock runs a few minutes fast and one an hour fast
    first, second = PersonFactory.create_batch(2, household=household_a)
    a_little_fast = timezone.now() + CLOCK_SKEW - datetime.timedelta(minutes=1)

    # when each registers a swab at its own time
    taken = services.sample_register(actor=medic, round=round_a, site=site_a, barcode="CK", person=first,
                                     client_id=uuid.uuid4(), taken_at=a_little_fast)
    with pytest.raises(DomainError) as refused:
        services.sample_register(actor=medic, round=round_a, site=site_a, barcode="CK", person=second,
                                 client_id=uuid.uuid4(), taken_at=timezone.now() + datetime.timedelta(hours=1))

    # then the first swab keeps the time sent, and the second is refused naming the field
    assert Sample.objects.get().pk == taken.pk and taken.taken_at == a_little_fast
    assert refused.value.fields == {"taken_at": "采样时间不能晚于现在"}


def _row(round, site, tube, **person):
    return {"client_id": str(uuid.uuid4()), "round_id": round.pk, "site_id": site.pk, "tube": tube,
            "taken_at": timezone.now().isoformat(), "door_to_door": False, **person}


def test_a_batch_stores_valid_rows_and_answers_each(medic, round_a, site_a, household_a, person_b):
    people = PersonFactory.create_batch(6, household=household_a)
    rows = [_row(round_a, site_a, "B1", code=personal_code(person)) for person in people[:5]]
    rows.append(_row(round_a, site_a, "B1", id_number=people[5].id_number))
    rows.append(_row(round_a, site_a, "B2", id_number=people[5].id_number))
    rows.append(_row(round_a, site_a, "B2", code=personal_code(person_b)))
    rows.append({**rows[0]})
    answers = services.samples_register(actor=medic, rows=rows)
    assert [a["status"] for a in answers] == ["stored"] * 5 + ["refused", "stored", "refused", "duplicate"]
    assert "已封管" in answers[5]["message"] and answers[7]["message"] == "该个人码不属于本社区"
    tubes = {tube.barcode: tube for tube in Tube.objects.all()}
    assert (tubes["B1"].sample_count, tubes["B1"].status) == (5, Tube.Status.CLOSED)
    assert (tubes["B2"].sample_count, tubes["B2"].status) == (1, Tube.Status.OPEN)


def test_a_batch_row_timed_an_hour_ahead_is_refused_alone(medic, round_a, site_a, household_a):
    first, second = PersonFactory.create_batch(2, household=household_a)
    ahead = {**_row(round_a, site_a, "CK", person_id=second.pk),
             "taken_at": (timezone.now() + datetime.timedelta(hours=1)).isoformat()}

    answers = services.samples_register(actor=medic, rows=[_row(round_a, site_a, "CK", person_id=first.pk), ahead])

    assert [(a["status"], a["message"]) for a in answers] == [("stored", ""), ("refused", "采样时间不能晚于现在")]
    assert list(Sample.objects.values_list("person_id", flat=True)) == [first.pk]


def test_the_tubes_a_batch_opens_and_closes_are_audited_under_their_community(medic, round_a, site_a, household_a):
    people = PersonFactory.create_batch(5, household=household_a)

    services.samples_register(actor=medic, rows=[_row(round_a, site_a, "AU-1", person_id=p.pk) for p in people])

    events = AuditEvent.objects.filter(object_type="tube").values_list("action", "community_id")
    assert sorted(events) == [("create", round_a.community_id), ("update", round_a.community_id)]


def test_a_replayed_batch_stores_nothing_twice(medic, round_a, site_a, household_a):
    people = PersonFactory.create_batch(3, household=household_a)
    rows = [_row(round_a, site_a, "RB", person_id=person.pk) for person in people]
    services.samples_register(actor=medic, rows=rows)
    answers = services.samples_register(actor=medic, rows=rows)
    assert {a["status"] for a in answers} == {"duplicate"}
    assert Sample.objects.count() == 3 and Tube.objects.get().sample_count == 3


def test_a_sample_stored_meanwhile_by_another_device_is_refused_row_by_row(medic, round_a, site_a, household_a,
                                                                           monkeypatch):
    # Given a person sampled by another device after this batch looked for earlier samples
    people = PersonFactory.create_batch(3, household=household_a)
    services.samples_register(actor=medic, rows=[_row(round_a, site_a, "M1", person_id=people[0].pk)])
    monkeypatch.setattr(batch, "_first_samples", lambda rows: {})

    answers = services.samples_register(actor=medic, rows=[_row(round_a, site_a, "M2", person_id=person.pk)
                                                           for person in people])

    # Then the database's constraint refuses that row alone, and the others are stored and counted
    assert [a["status"] for a in answers] == ["refused", "stored", "stored"]
    assert Sample.objects.filter(person=people[0]).count() == 1
    assert Tube.objects.get(barcode="M2").sample_count == Sample.objects.filter(tube__barcode="M2").count() == 2


def test_a_batch_refuses_a_second_sample_and_a_used_barcode(medic, round_a, site_a, household_a, community_a):
    person = PersonFactory(household=household_a)
    services.samples_register(actor=medic, rows=[_row(round_a, site_a, "S1", person_id=person.pk)])
    other_round = TestRoundFactory(community=community_a)
    answers = services.samples_register(actor=medic, rows=[
        _row(round_a, site_a, "S2", person_id=person.pk),
        _row(other_round, site_a, "S1", person_id=person.pk),
        _row(round_a, site_a, "S3", code="FK1:forged"),
        {**_row(round_a, site_a, "S4", person_id=person.pk), "client_id": "not-a-uuid"}])
    assert [a["status"] for a in answers] == ["refused"] * 4
    assert "春雨广场" in answers[0]["message"] and "S1" in answers[1]["message"]
    assert "无效" in answers[2]["message"] and "UUID" in answers[3]["message"]
    assert Sample.objects.count() == 1


def test_a_full_tube_is_closed_as_of_its_last_swab_even_when_the_device_syncs_later(medic, round_a, site_a,
                                                                                    household_a):
    # Given five people swabbed between 06:00 and 06:04 this morning, sent by a device at once later on
    people = PersonFactory.create_batch(5, household=household_a)
    six = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0) - datetime.timedelta(days=1)
    rows = [{"client_id": str(uuid.uuid4()), "round_id": round_a.pk, "site_id": site_a.pk, "tube": "SYNC1",
             "person_id": person.pk, "taken_at": (six + datetime.timedelta(minutes=n)).isoformat()}
            for n, person in enumerate(people)]

    services.samples_register(actor=medic, rows=rows)

    # Then the tube counts as closed at 06:04, which is where the lab's turnaround starts
    tube = Tube.objects.get(barcode="SYNC1")
    assert tube.status == Tube.Status.CLOSED and tube.closed_at == six + datetime.timedelta(minutes=4)
