"""The cases API: a positive with its chain, status and severity, contacts, policies; 404 outside scope."""

import datetime

import pytest
from django.utils import timezone

from fangkong.health.models import Case, Contact
from tests.clients import send, signed_in
from tests.health.factories import CaseFactory, ContactFactory
from tests.people.factories import PersonFactory, resident_id

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _iso(hours_ago: float) -> str:
    return (timezone.now() - datetime.timedelta(hours=hours_ago)).isoformat()


def test_a_positive_through_the_api_returns_the_case_with_its_timeline(staff_a, person_a, household_a):
    PersonFactory(household=household_a, name="王芳")
    client = signed_in(staff_a)
    response = send(client, "post", "/cases", {"person_id": person_a.pk, "source": "test_result",
                                               "confirmed_at": _iso(1), "severity": "moderate"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id_number"] == person_a.masked_id_number and body["severity"] == "moderate"
    assert "密切接触者 王芳" in [event["note"] for event in body["timeline"]]
    assert len(body["zone_ids"]) == 2
    contacts = send(client, "get", f"/cases/{body['id']}/contacts").json()
    assert [(c["person_name"], c["kind"], c["observation_kind"]) for c in contacts] == [
        ("王芳", "close", "central_quarantine")]
    assert contacts[0]["phone"].count("*") >= 4
    listed = send(client, "get", "/cases?status=found").json()
    assert listed["count"] == 1 and listed["items"][0]["contact_count"] == 1


def test_a_second_open_case_is_409(staff_a, person_a):
    CaseFactory(person=person_a)
    response = send(signed_in(staff_a), "post", "/cases", {"person_id": person_a.pk, "source": "test_result",
                                                          "confirmed_at": _iso(1)})
    assert response.status_code == 409 and response.json()["error"]["code"] == "case_exists"


def test_bad_input_is_400_naming_the_field(staff_a, person_a):
    client = signed_in(staff_a)
    future = send(client, "post", "/cases", {"person_id": person_a.pk, "source": "test_result",
                                             "confirmed_at": _iso(-24)})
    assert future.status_code == 400 and "confirmed_at" in future.json()["error"]["fields"]
    wrong = send(client, "post", "/cases", {"person_id": person_a.pk, "source": "rumour", "confirmed_at": _iso(1)})
    assert wrong.status_code in (400, 422)
    assert not Case.objects.exists()


def test_status_severity_contacts_and_removal(staff_a, person_a, household_a):
    case = CaseFactory(person=person_a)
    client = signed_in(staff_a)
    assert send(client, "post", f"/cases/{case.pk}/status", {"status": "in_hospital"}).json()["status"] == "in_hospital"
    assert send(client, "post", f"/cases/{case.pk}/status", {"status": "found"}).status_code == 409
    assert send(client, "post", f"/cases/{case.pk}/severity", {"severity": "severe"}).json()["severity"] == "severe"
    close = send(client, "post", f"/cases/{case.pk}/contacts",
                 {"name": "同事", "id_number": resident_id(901), "kind": "close", "last_exposure_at": _iso(10)})
    assert close.status_code == 201, close.json()
    secondary = send(client, "post", f"/cases/{case.pk}/contacts",
                     {"person_id": PersonFactory(household=household_a).pk, "kind": "secondary",
                      "last_exposure_at": _iso(5), "via_id": close.json()["id"]})
    assert secondary.json()["via_id"] == close.json()["id"]
    self_contact = send(client, "post", f"/cases/{case.pk}/contacts",
                        {"person_id": person_a.pk, "kind": "close", "last_exposure_at": _iso(1)})
    assert self_contact.status_code == 400 and "person" in self_contact.json()["error"]["fields"]
    removed = send(client, "post", f"/contacts/{close.json()['id']}/remove", {"reason": "核实"})
    assert removed.json()["status"] == Contact.Status.REMOVED


def test_every_case_path_is_404_outside_scope(staff_b, grid_member_b, person_a, household_a):
    case = CaseFactory(person=person_a)
    contact = ContactFactory(case=case, person=PersonFactory(household=household_a))
    for outsider in (staff_b, grid_member_b):
        client = signed_in(outsider)
        assert send(client, "get", "/cases").json()["count"] == 0
        for method, url, body in (
                ("get", f"/cases/{case.pk}", None),
                ("post", f"/cases/{case.pk}/status", {"status": "transferred"}),
                ("post", f"/cases/{case.pk}/severity", {"severity": "mild"}),
                ("get", f"/cases/{case.pk}/contacts", None),
                ("post", f"/cases/{case.pk}/contacts", {"person_id": person_a.pk, "kind": "close",
                                                        "last_exposure_at": _iso(1)}),
                ("post", f"/contacts/{contact.pk}/remove", {"reason": "x"}),
                ("post", "/cases", {"person_id": person_a.pk, "source": "test_result", "confirmed_at": _iso(1)})):
            assert send(client, method, url, body).status_code == 404, (outsider, url)
    case.refresh_from_db()
    assert case.status == Case.Status.FOUND


def test_contact_policies_read_by_staff_set_by_the_street(street_admin, staff_a, street):
    assert send(signed_in(staff_a), "get", "/contact-policies").json() == [
        {"street_id": street.pk, "kind": "close", "observation_kind": "central_quarantine", "is_default": True},
        {"street_id": street.pk, "kind": "secondary", "observation_kind": "home_quarantine", "is_default": True}]
    answer = send(signed_in(street_admin), "put", "/contact-policies",
                  {"kind": "close", "observation_kind": "home_quarantine"})
    assert answer.status_code == 200 and answer.json()[0]["observation_kind"] == "home_quarantine"
    refused = send(signed_in(staff_a), "put", "/contact-policies",
                   {"street_id": street.pk, "kind": "close", "observation_kind": "central_quarantine"})
    assert refused.status_code == 403
