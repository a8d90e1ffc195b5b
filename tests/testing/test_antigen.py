"""Antigen self-tests: a resident for their own household, a photo that is really an image, a retry stored once."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import DomainError
from fangkong.testing import queries, services
from fangkong.testing.models import AntigenReport
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import TestRoundFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo(content: bytes, name: str = "card.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def test_a_resident_reports_for_a_household_member_and_it_counts_apart_from_samples(resident, person_a, household_a,
                                                                                     staff_a):
    # Given today's round in 张三's community and his daughter at home
    round = TestRoundFactory(community=household_a.community)
    daughter = PersonFactory(household=household_a, name="张小妹")

    # when 张三 reports her negative self-test with a photo of the card
    report = services.antigen_report(actor=resident, person=daughter, result="negative", photo=photo(JPEG))

    # then it is stored with its photo, attached to today's round, and counted apart from samples
    assert (report.round, report.household, report.reported_by, report.photo.name.endswith(".jpg")) == (
        round, household_a, resident, True)
    coverage = queries.round_coverage(staff_a, round)
    assert (coverage.antigen["negative"], coverage.total.sampled) == (1, 0)


def test_another_household_is_refused(resident, person_b):
    with pytest.raises(Http404):
        services.antigen_report(actor=resident, person=person_b, result="positive")
    assert not AntigenReport.objects.exists()


@pytest.mark.parametrize(("content", "code"), [(b"GIF89a not a card" + b"\x00" * 10, "photo_not_image"),
                                               (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "too_large")])
def test_a_bad_photo_is_refused_by_its_bytes(resident, person_a, content, code):
    with pytest.raises(DomainError) as refused:
        services.antigen_report(actor=resident, person=person_a, result="negative", photo=photo(content))
    assert refused.value.code == code and "photo" in refused.value.fields
    assert not AntigenReport.objects.exists()


def test_an_unknown_result_word_is_refused(resident, person_a):
    with pytest.raises(DomainError) as refused:
        services.antigen_report(actor=resident, person=person_a, result="weak")
    assert "result" in refused.value.fields


def test_a_self_test_timed_ahead_of_now_is_refused(resident, person_a):
    with pytest.raises(DomainError) as refused:
        services.antigen_report(actor=resident, person=person_a, result="negative",
                                taken_at=timezone.now() + datetime.timedelta(hours=1))
    assert refused.value.fields == {"taken_at": "检测时间不能晚于现在"}
    assert not AntigenReport.objects.exists()


def test_the_same_client_id_is_stored_once(resident, person_a):
    client_id = uuid.uuid4()
    first = services.antigen_report(actor=resident, person=person_a, result="negative", client_id=client_id)
    again = services.antigen_report(actor=resident, person=person_a, result="negative", client_id=str(client_id))

    assert again.pk == first.pk and AntigenReport.objects.count() == 1


def test_staff_report_for_people_in_scope_only(staff_a, staff_b, person_a):
    assert services.antigen_report(actor=staff_a, person=person_a, result="positive").result == "positive"
    with pytest.raises(Http404):
        services.antigen_report(actor=staff_b, person=person_a, result="positive")


def test_the_resident_page_takes_a_photo_from_the_phone(resident, person_a):
    client = signed_in(resident)
    page = client.get("/testing/me/antigen/")
    html = page.content.decode()
    assert page.status_code == 200 and 'accept="image/*"' in html and "capture" in html and "张三" in html

    response = client.post("/testing/me/antigen/", {"person": person_a.pk, "result": "negative",
                                                    "taken_at": "", "photo": photo(PNG, "card.png"),
                                                    "client_id": str(uuid.uuid4())})
    assert response.status_code == 400  # the time is required

    response = client.post("/testing/me/antigen/", {"person": person_a.pk, "result": "negative",
                                                    "taken_at": page.context["form"]["taken_at"].value().strftime(
                                                        "%Y-%m-%dT%H:%M"),
                                                    "photo": photo(PNG, "card.png"), "client_id": str(uuid.uuid4())})
    assert response.status_code == 302
    report = AntigenReport.objects.get()
    assert report.person == person_a and report.photo.name.endswith(".png")


def test_the_resident_page_refuses_a_fake_photo_with_a_message(resident, person_a):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = signed_in(resident).post("/testing/me/antigen/", {
        "person": person_a.pk, "result": "negative", "taken_at": now,
        "photo": photo(b"not an image at all"), "client_id": str(uuid.uuid4())})
    assert response.status_code == 400 and not AntigenReport.objects.exists()
    assert response.context["form"].errors["photo"] == ["照片应为 JPEG 或 PNG 图片"]


def test_the_api_takes_a_multipart_report_once(resident, person_a, person_b):
    client, client_id = signed_in(resident), str(uuid.uuid4())
    body = {"person_id": person_a.pk, "result": "negative", "client_id": client_id, "photo": photo(JPEG)}
    first = client.post("/api/v1/antigen-reports", body)
    assert first.status_code == 201, first.json()
    assert first.json()["has_photo"] is True
    again = client.post("/api/v1/antigen-reports", {**body, "photo": photo(JPEG)})
    assert again.json()["id"] == first.json()["id"] and AntigenReport.objects.count() == 1

    other = client.post("/api/v1/antigen-reports", {"person_id": person_b.pk, "result": "negative"})
    assert other.status_code == 404 and other.json()["error"]["fields"] == {"person_id": "不存在或不在您的管辖范围内"}
    fake = client.post("/api/v1/antigen-reports", {"person_id": person_a.pk, "result": "negative",
                                                   "photo": photo(b"plain text")})
    assert fake.status_code == 400 and "photo" in fake.json()["error"]["fields"]
