"""The poster and the resident's own arrival report: phone, code, form, confirmation."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import Role, User
from fangkong.people.models import Person
from fangkong.screening import queries
from fangkong.screening.models import Arrival, ArrivalSource, FollowUp
from tests.people.factories import resident_id

SENT = []
YESTERDAY = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()


class KeepingSender:
    """Keeps the codes it is asked to send, so a test can type them."""

    def send_code(self, phone, code):
        SENT.append((phone, code))


@pytest.fixture(autouse=True)
def sender(settings):
    settings.FANGKONG_SMS_SENDER = "tests.screening.test_self_report.KeepingSender"
    SENT.clear()


@pytest.fixture
def url(community_a):
    return reverse("screening:arrival_self_report", args=[queries.poster_token(community_a)])


def _verified(client, url, phone="13912345678"):
    client.post(url, {"phone": phone})
    code = SENT[-1][1]
    return client.post(url, {"step": "code", "phone": phone, "code": code})


def _report(**changes):
    values = {"name": "赵敏", "id_number": resident_id(61), "origin": "湖北省武汉市武昌区 420106",
              "arrived_on": YESTERDAY, "travel_mode": "train", "travel_number": "G72", "plate": "",
              "building": "3", "unit": "2", "room": "301", "notice_acknowledged": "on", "commitment_signed": "on",
              "companion_name": ["赵小敏"], "companion_id_number": [resident_id(62)],
              "companion_relationship": ["子女"]}
    values.update(changes)
    return values


def test_poster_is_for_staff_and_encodes_the_signed_page(staff_a, community_a, url):
    client = Client()
    client.force_login(staff_a)
    response = client.get(reverse("screening:poster", args=[community_a.pk]))
    assert response.status_code == 200
    assert "<svg" in response.content.decode() and "扫码登记返乡信息" in response.content.decode()
    assert url in response.content.decode()


def test_poster_of_another_community_is_404(staff_b, community_a):
    client = Client()
    client.force_login(staff_b)
    assert client.get(reverse("screening:poster", args=[community_a.pk])).status_code == 404


def test_forged_token_is_404(db, community_a):
    forged = reverse("screening:arrival_self_report", args=[f"{community_a.pk}:forged"])
    assert Client().get(forged).status_code == 404


def test_resident_reports_with_a_companion_and_is_signed_in(url, household_a):
    client = Client()
    response = _verified(client, url)
    assert response.status_code == 302
    response = client.post(url, _report())
    assert response.status_code == 302
    person = Person.objects.get(id_number=resident_id(61))
    lead = Arrival.objects.get(person=person)
    assert (lead.source, lead.household, lead.origin_code) == (ArrivalSource.SELF_REPORT, household_a, "420106")
    assert lead.notice_acknowledged_at and lead.commitment_signed_at
    assert lead.companions.get().person.name == "赵小敏"
    assert FollowUp.objects.filter(person__in=[person, lead.companions.get().person]).count() == 2
    account = User.objects.get(phone="13912345678", role=Role.RESIDENT)
    assert account.person == person and person.phone == "13912345678"
    page = client.get(url).content.decode()
    assert "登记成功" in page and "/health/me/" in page and "赵小敏" in page


def test_wrong_code_keeps_the_form_closed(url):
    client = Client()
    client.post(url, {"phone": "13912345678"})
    wrong_code = "000000" if SENT[-1][1] != "000000" else "111111"
    response = client.post(url, {"step": "code", "phone": "13912345678", "code": wrong_code})
    assert "验证码错误或已过期" in response.content.decode()
    assert "提交登记" not in client.get(url).content.decode()


def test_unsigned_commitment_and_unknown_room_are_field_errors(url, household_a):
    client = Client()
    _verified(client, url)
    response = client.post(url, _report(commitment_signed="", room="999"))
    page = response.content.decode()
    assert "请阅读并勾选承诺书" in page and "本社区没有 3-2-999 这一户" in page
    assert not Arrival.objects.exists()


def test_future_date_and_bad_id_are_refused(url, household_a):
    client = Client()
    _verified(client, url)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    page = client.post(url, _report(arrived_on=tomorrow)).content.decode()
    assert "抵达日期不能晚于今天" in page
    page = client.post(url, _report(id_number="110101199003071234")).content.decode()
    assert "身份证" in page and not Arrival.objects.exists()


def test_double_submission_is_stored_once(url, household_a):
    client = Client()
    _verified(client, url)
    client.post(url, _report())
    other = Client()
    _verified(other, url)
    other.post(url, _report())
    assert Arrival.objects.filter(companion_of=None).count() == 1


def test_division_suggestions(db):
    response = Client().get(reverse("screening:divisions"), {"q": "武昌", "format": "options"})
    assert "湖北省武汉市武昌区 420106" in response.content.decode()


def test_a_registered_person_cannot_be_claimed_from_another_phone(url, person_a):
    # Given 张三 registered with his own phone, when someone else's phone reports with his ID number
    client = Client()
    _verified(client, url, phone="13912345678")
    response = client.post(url, _report(name="张三", id_number=person_a.id_number, companion_name=[],
                                        companion_id_number=[], companion_relationship=[]))
    # then nothing is recorded and no account is tied to him
    assert "登记的手机号与本机号码不一致" in response.content.decode()
    assert not Arrival.objects.filter(person=person_a).exists()
    assert not User.objects.filter(person=person_a).exists()


def test_a_registered_person_reports_from_their_own_phone(url, person_a):
    client = Client()
    _verified(client, url, phone=person_a.phone)
    client.post(url, _report(name="张三", id_number=person_a.id_number, companion_name=[], companion_id_number=[],
                             companion_relationship=[]))
    assert Arrival.objects.get(person=person_a).source == ArrivalSource.SELF_REPORT
    assert User.objects.get(person=person_a).role == Role.RESIDENT
