"""The scanner page: a tube opened by barcode, people added by code, ID number or roster, undo and close."""

import uuid

import pytest

from fangkong.people.codes import personal_code
from fangkong.testing.models import Sample, Tube
from tests.clients import signed_in
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_scanner_opens_a_tube_and_adds_people(medic, round_a, site_a, person_a):
    client = signed_in(medic)
    page = client.get(f"/testing/rounds/{round_a.pk}/scan/?site={site_a.pk}")
    assert page.status_code == 200 and "testing/scanner.js" in page.content.decode()
    opened = client.post(f"/testing/rounds/{round_a.pk}/scan/tubes/", {"site": site_a.pk, "barcode": "w-1"}, **HTMX)
    tube = Tube.objects.get()
    assert "W-1" in opened.content.decode() and "0/5" in opened.content.decode()
    client_id = str(uuid.uuid4())
    url = f"/testing/rounds/{round_a.pk}/scan/tubes/{tube.pk}/add/"
    added = client.post(url, {"text": personal_code(person_a), "client_id": client_id}, **HTMX)
    again = client.post(url, {"text": personal_code(person_a), "client_id": client_id}, **HTMX)
    assert "张三" in added.content.decode() and "1/5" in again.content.decode()
    assert Sample.objects.count() == 1


def test_the_roster_lists_a_room_with_who_is_sampled(medic, round_a, site_a, person_a, household_a):
    PersonFactory(household=household_a, name="张小明")
    client = signed_in(medic)
    roster = client.get(f"/testing/rounds/{round_a.pk}/scan/roster/?site={site_a.pk}&room=30", **HTMX)
    text = roster.content.decode()
    assert "3-2-301" in text and "张三" in text and "张小明" in text


def test_the_roster_is_only_for_those_who_may_sample_at_the_site(grid_member_a, round_a, site_a,
                                                                 person_a_other_grid):
    client = signed_in(grid_member_a)
    url = f"/testing/rounds/{round_a.pk}/scan/roster/?site={site_a.pk}&room=101"

    refused = client.get(url, **HTMX)
    assert refused.status_code == 403 and "王外网格" not in refused.content.decode()
    assert client.get(f"/testing/rounds/{round_a.pk}/scan/roster/?room=101", **HTMX).status_code == 403

    site_a.team.add(grid_member_a)
    assert "王外网格" in client.get(url, **HTMX).content.decode()


def test_a_grid_account_on_the_team_opens_a_tube_fills_undoes_and_closes_it(grid_member_a, round_a, site_a,
                                                                            person_a_other_grid):
    site_a.team.add(grid_member_a)
    client = signed_in(grid_member_a)

    opened = client.post(f"/testing/rounds/{round_a.pk}/scan/tubes/", {"site": site_a.pk, "barcode": "G-2"})
    tube = Tube.objects.get()
    assert opened.status_code == 302 and opened.url.endswith(f"?site={site_a.pk}&tube={tube.pk}")
    page = client.get(opened.url)
    assert page.status_code == 200 and "G-2" in page.content.decode()
    url = f"/testing/rounds/{round_a.pk}/scan/tubes/{tube.pk}"
    added = client.post(f"{url}/add/", {"text": personal_code(person_a_other_grid), "client_id": str(uuid.uuid4())},
                        **HTMX)
    assert "王外网格" in added.content.decode()
    assert client.post(f"{url}/undo/").status_code == 302
    client.post(f"{url}/add/", {"person": person_a_other_grid.pk, "client_id": str(uuid.uuid4())}, **HTMX)
    assert client.post(f"{url}/close/").status_code == 302
    tube.refresh_from_db()
    assert (tube.status, tube.sample_count) == (Tube.Status.CLOSED, 1)


def test_a_second_scan_of_a_person_shows_the_refusal(medic, round_a, site_a, person_a):
    client = signed_in(medic)
    client.post(f"/testing/rounds/{round_a.pk}/scan/tubes/", {"site": site_a.pk, "barcode": "W-2"}, **HTMX)
    tube = Tube.objects.get()
    url = f"/testing/rounds/{round_a.pk}/scan/tubes/{tube.pk}/add/"
    client.post(url, {"person": person_a.pk, "client_id": str(uuid.uuid4())}, **HTMX)
    twice = client.post(url, {"text": person_a.id_number, "client_id": str(uuid.uuid4())}, **HTMX)
    assert "不能重复采样" in twice.content.decode()


def test_the_scanner_of_another_community_is_404(staff_b, round_a, site_a):
    client = signed_in(staff_b)
    assert client.get(f"/testing/rounds/{round_a.pk}/scan/").status_code == 404
    response = client.post(f"/testing/rounds/{round_a.pk}/scan/tubes/", {"site": site_a.pk, "barcode": "X"}, **HTMX)
    assert response.status_code == 404 and not Tube.objects.exists()
