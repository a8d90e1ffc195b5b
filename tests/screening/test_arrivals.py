"""Recording arrivals: who arrived, with whom, from where; each is followed from the first minute."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from fangkong.screening import queries, services
from fangkong.screening.models import Arrival, Color, FollowUp
from fangkong.zones.models import CareTask
from tests.people.factories import PersonFactory, resident_id
from tests.screening.factories import RiskAreaFactory
from tests.zones.factories import ZoneFactory

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def _record(actor, community, **changes):
    values = dict(community=community,
                  person_data={"name": "王芳", "id_number": resident_id(41), "phone": "13900001111"},
                  origin_code="420106", arrived_on=YESTERDAY, travel_mode="train", travel_number="g 1234")
    values.update(changes)
    return services.arrival_record(actor=actor, **values)


def test_staff_registers_a_new_person_arriving_and_starts_following_her(staff_a, community_a, household_a):
    arrival = _record(staff_a, community_a, household=household_a, notice_acknowledged=True)
    person = Person.objects.get(id_number=resident_id(41))
    assert (arrival.person, arrival.household, person.household) == (person, household_a, household_a)
    assert arrival.origin_name == "湖北省武汉市武昌区" and arrival.travel_number == "G1234"
    assert arrival.notice_acknowledged_at is not None and arrival.commitment_signed_at is None
    follow_up = FollowUp.objects.get(person=person)
    assert follow_up.reason == "外地返回:湖北省武汉市武昌区"
    assert AuditEvent.objects.filter(object_type="arrival", action="create", actor=staff_a).exists()


def test_arrival_from_a_risk_area_is_exposed_and_red(staff_a, street, community_a, household_a):
    RiskAreaFactory(street=street, division_code="420100")
    arrival = _record(staff_a, community_a, household=household_a)
    assert arrival.exposed
    assert FollowUp.objects.get(person=arrival.person).risk_color == Color.RED


def test_existing_person_is_found_by_id_number(staff_a, community_a, person_a):
    arrival = _record(staff_a, community_a, person_data={"name": "张三", "id_number": person_a.id_number})
    assert arrival.person == person_a
    assert Person.objects.count() == 1


def test_companions_are_registered_in_the_same_submission(staff_a, community_a, household_a):
    companions = [{"name": "王小明", "id_number": resident_id(42), "relationship": "子女"},
                  {"name": "李强", "id_number": resident_id(43), "relationship": "配偶"}]
    lead = _record(staff_a, community_a, household=household_a, companions=companions)
    others = list(queries.companions_of(staff_a, lead))
    assert [a.person.name for a in others] == ["王小明", "李强"]
    assert all(a.origin_code == "420106" and a.household == household_a for a in others)
    assert FollowUp.objects.filter(person__in=[a.person for a in others]).count() == 2


def test_a_bad_companion_lands_nothing(staff_a, community_a, household_a):
    companions = [{"name": "王小明", "id_number": "420106199001011234"}]
    with pytest.raises(DomainError) as err:
        _record(staff_a, community_a, household=household_a, companions=companions)
    assert err.value.message.startswith("同行人 1:")
    assert "companions.0.id_number" in err.value.fields
    assert not Arrival.objects.exists() and not Person.objects.exists()


def test_the_same_report_twice_is_stored_once(staff_a, community_a, household_a):
    first = _record(staff_a, community_a, household=household_a)
    second = _record(staff_a, community_a, household=household_a)
    assert first.pk == second.pk and Arrival.objects.count() == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"arrived_on": TODAY + datetime.timedelta(days=1)}, "arrived_on", "抵达日期不能晚于今天"),
    ({"origin_code": "999999"}, "origin_code", "行政区划代码 999999 不存在"),
    ({"person_data": {"name": "王芳", "id_number": "110101199003071234"}}, "id_number", None),
    ({"travel_mode": "rocket"}, "travel_mode", None),
])
def test_bad_input_names_the_field(staff_a, community_a, household_a, changes, field, message):
    with pytest.raises(DomainError) as err:
        _record(staff_a, community_a, household=household_a, **changes)
    assert field in err.value.fields
    if message:
        assert err.value.message == message
    assert not Arrival.objects.exists()


def test_household_of_another_community_is_404(staff_a, community_a, household_b):
    with pytest.raises(Http404):
        _record(staff_a, community_a, household=household_b)


def test_staff_of_another_community_cannot_record_here(staff_b, community_a):
    with pytest.raises(Http404):
        _record(staff_b, community_a)


def test_medic_may_not_record_arrivals(medic, community_a, household_a):
    with pytest.raises(NotAllowed):
        _record(medic, community_a, household=household_a)


def test_notice_signed_later_is_stamped(staff_a, community_a, household_a):
    arrival = _record(staff_a, community_a, household=household_a)
    arrival = services.arrival_acknowledge(actor=staff_a, arrival=arrival)
    assert arrival.notice_acknowledged_at and arrival.commitment_signed_at


def test_lists_stay_in_scope(staff_a, staff_b, grid_member_a, grid_member_b, community_a, household_a):
    arrival = _record(staff_a, community_a, household=household_a)
    assert list(queries.arrivals_for(grid_member_a)) == [arrival]
    assert list(queries.arrivals_for(staff_b)) == [] and list(queries.arrivals_for(grid_member_b)) == []
    assert list(queries.arrivals_for(staff_a, exposed=True)) == []
    assert list(queries.arrivals_for(staff_a, since=TODAY)) == []
    assert list(queries.arrivals_of_person(staff_a, arrival.person)) == [arrival]
    with pytest.raises(Http404):
        queries.get_arrival_for(staff_b, arrival.pk)


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_console_entry_lists_masked_and_shows_the_detail(staff_a, community_a, household_a):
    from django.urls import reverse

    client = _client(staff_a)
    response = client.post(reverse("screening:arrival_create"), {
        "community": community_a.pk, "name": "王芳", "id_type": "resident_id", "id_number": resident_id(41),
        "phone": "13900001111", "address": "3-2-301", "origin": "420106", "arrived_on": YESTERDAY.isoformat(),
        "travel_mode": "car", "plate": "鄂A12345", "companion_name": ["王小明"],
        "companion_id_number": [resident_id(42)], "companion_relationship": ["子女"]})
    arrival = Arrival.objects.get(companion_of=None)
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:arrival_detail", args=[arrival.pk])
    page = client.get(reverse("screening:arrivals")).content.decode()
    assert "139****1111" in page and "13900001111" not in page and "王小明" in page
    detail = client.get(reverse("screening:arrival_detail", args=[arrival.pk])).content.decode()
    assert "湖北省武汉市武昌区" in detail and "鄂A12345" in detail


def test_console_entry_shows_field_errors(staff_a, community_a):
    from django.urls import reverse

    page = _client(staff_a).post(reverse("screening:arrival_create"), {
        "community": community_a.pk, "name": "王芳", "id_type": "resident_id", "id_number": resident_id(41),
        "origin": "999999", "arrived_on": YESTERDAY.isoformat(), "travel_mode": "car"}).content.decode()
    assert "行政区划代码 999999 不存在" in page and not Arrival.objects.exists()


def test_risk_area_page_lets_street_staff_add_and_end(street_admin, staff_a, street):
    from django.urls import reverse

    url = reverse("screening:risk_areas")
    client = _client(street_admin)
    client.post(url, {"action": "create", "division": "湖北省武汉市武昌区 420106", "level": "high",
                      "valid_from": YESTERDAY.isoformat()})
    area = queries.risk_areas_for(street_admin).get()
    client.post(url, {"action": "end", "risk_area": area.pk, "valid_to": TODAY.isoformat()})
    area.refresh_from_db()
    assert area.valid_to == TODAY
    assert _client(staff_a).post(url, {"action": "create", "division": "420106", "level": "high",
                                       "valid_from": YESTERDAY.isoformat()}).status_code == 403
    assert "湖北省武汉市武昌区" in _client(staff_a).get(url).content.decode()


def test_a_registered_patient_arriving_into_a_sealed_unit_gets_her_daily_check(staff_a, community_a, household_a,
                                                                                unit_a):
    zone = ZoneFactory(place=unit_a)
    patient = PersonFactory(community=community_a, household=None, name="王阿姨", tags=["dialysis"])

    _record(staff_a, community_a, household=household_a,
            person_data={"name": "王阿姨", "id_number": patient.id_number})

    assert list(CareTask.objects.filter(zone=zone).values_list("person_id", flat=True)) == [patient.pk]


def test_a_risk_area_file_over_the_upload_limit_is_refused_on_the_page(street_admin, street, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    settings.LEDGER_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("风险地区.csv", "地区代码,风险等级,起始日期\n420106,高,2022-04-01\n".encode()
                                + b" " * settings.LEDGER_MAX_BYTES)

    page = _client(street_admin).post(reverse("screening:risk_areas"), {"action": "import", "file": upload})

    assert "文件过大:不能超过 1 MB" in page.content.decode()
    assert not queries.risk_areas_for(street_admin).exists()
