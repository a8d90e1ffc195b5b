"""The follow-up API and pages: each grid sees only its own people, outside scope is 404."""

import pytest

from fangkong.accounts.models import Role
from fangkong.screening import services
from fangkong.screening.models import Color, FollowUp
from tests.accounts.factories import UserFactory
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.places.factories import GridFactory, HouseholdFactory, UnitFactory
from tests.screening.factories import ArrivalFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"



@pytest.fixture
def follow_up_a(staff_a, person_a):
    ArrivalFactory(person=person_a, exposed=True, origin_code="420106", origin_name="湖北省武汉市武昌区")
    return services.follow_up_open(actor=staff_a, person=person_a, reason="外地返回:湖北省武汉市武昌区")


@pytest.fixture
def second_grid_of_a(community_a, compound_a):
    """Grid A2 of the same community, with its own grid member and a followed person."""
    grid = GridFactory(community=community_a, name="第二网格")
    unit = UnitFactory(building__grid=grid, building__compound=compound_a, building__number="9")
    person = PersonFactory(household=HouseholdFactory(unit=unit), name="李四")
    member = UserFactory(username="grid_a2", role=Role.GRID_MEMBER, grids=[grid])
    return grid, person, member


FOLLOW_UP_URLS = [
    ("get", "/follow-ups/{id}", None),
    ("post", "/follow-ups/{id}/contacts", {"outcome": "phone"}),
    ("post", "/follow-ups/{id}/override", {"color": "green", "reason": "x"}),
    ("post", "/follow-ups/{id}/assign", {"responsible_id": None}),
]


@pytest.mark.parametrize("method,url,body", FOLLOW_UP_URLS)
@pytest.mark.parametrize("who", ["staff_b", "grid_member_b"])
def test_a_follow_up_of_another_community_is_404(request, follow_up_a, method, url, body, who):
    client = signed_in(request.getfixturevalue(who))
    response = getattr(client, method)(f"{API}{url.format(id=follow_up_a.pk)}", body, content_type="application/json")
    assert response.status_code == 404
    assert FollowUp.objects.get(pk=follow_up_a.pk).risk_color == Color.RED


def test_grid_a_cannot_see_the_follow_ups_of_grid_a2_in_the_same_community(staff_a, grid_member_a, follow_up_a,
                                                                           second_grid_of_a):
    _, person, member = second_grid_of_a
    other = services.follow_up_open(actor=staff_a, person=person, reason="外地返回")
    client = signed_in(grid_member_a)
    assert [row["person_name"] for row in client.get(f"{API}/follow-ups").json()["items"]] == ["张三"]
    assert client.get(f"{API}/follow-ups/{other.pk}").status_code == 404
    assert client.get(f"/screening/follow-ups/{other.pk}/").status_code == 404
    assert signed_in(member).get(f"{API}/follow-ups/{follow_up_a.pk}").status_code == 404
    listed = signed_in(staff_a).get(f"{API}/follow-ups").json()["items"]
    assert [row["person_name"] for row in listed] == ["张三", "李四"]


def test_recording_a_call_through_the_api_moves_the_colour(grid_member_a, follow_up_a):
    response = signed_in(grid_member_a).post(f"{API}/follow-ups/{follow_up_a.pk}/contacts",
                                             {"outcome": "phone", "note": "已在家"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["risk_color"] == "yellow" and body["reached"] is True
    assert [h["to_color"] for h in body["history"]] == ["yellow", "red"]
    assert body["phone"].count("*") >= 4


def test_bad_input_is_a_clear_error(staff_a, follow_up_a):
    client = signed_in(staff_a)
    bad_outcome = client.post(f"{API}/follow-ups/{follow_up_a.pk}/contacts", {"outcome": "fax"},
                              content_type="application/json")
    assert bad_outcome.status_code == 400 and "outcome" in bad_outcome.json()["error"]["fields"]
    no_reason = client.post(f"{API}/follow-ups/{follow_up_a.pk}/override", {"color": "green", "reason": ""},
                            content_type="application/json")
    assert no_reason.status_code == 400 and no_reason.json()["error"]["fields"] == {"reason": "请填写调整原因"}
    bad_color = client.post(f"{API}/follow-ups/{follow_up_a.pk}/override", {"color": "purple", "reason": "x"},
                            content_type="application/json")
    assert bad_color.status_code == 400
    stranger = client.post(f"{API}/follow-ups/{follow_up_a.pk}/assign", {"responsible_id": 987654},
                           content_type="application/json")
    assert stranger.status_code == 404 and "responsible_id" in stranger.json()["error"]["fields"]
    huge = client.get(f"{API}/follow-ups/{2 ** 64}")
    assert huge.status_code in (400, 404)


def test_mine_and_board_through_the_api(staff_a, grid_member_a, follow_up_a, grid_a):
    assert [r["person_name"] for r in signed_in(staff_a).get(f"{API}/follow-ups?mine=true").json()["items"]] == ["张三"]
    assert signed_in(grid_member_a).get(f"{API}/follow-ups?mine=true").json()["items"] == []
    board = signed_in(staff_a).get(f"{API}/follow-ups/board").json()
    assert [(row["grid_id"], row["red"], row["total"]) for row in board] == [(grid_a.pk, 1, 1)]


def test_pages_render_for_staff_and_refuse_residents(staff_a, resident, follow_up_a):
    client = signed_in(staff_a)
    for url in ("/screening/follow-ups/", "/screening/follow-ups/all/?color=red", "/screening/follow-ups/board/",
                f"/screening/follow-ups/{follow_up_a.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "张三" in response.content.decode() or "board" in url
    assert signed_in(resident).get("/screening/follow-ups/").status_code == 302


def test_the_override_form_refuses_an_empty_reason_on_the_page(staff_a, follow_up_a):
    response = signed_in(staff_a).post(f"/screening/follow-ups/{follow_up_a.pk}/override/",
                                       {"color": "green", "reason": ""})
    assert response.status_code == 400
    assert FollowUp.objects.get(pk=follow_up_a.pk).risk_color == Color.RED


def test_the_person_page_shows_the_colour_history_and_the_arrival(staff_a, follow_up_a, person_a):
    page = signed_in(staff_a).get(f"/people/{person_a.pk}/").content.decode()
    assert "湖北省武汉市武昌区" in page
    assert 'data-color="red"' in page
    assert f"/screening/follow-ups/{follow_up_a.pk}/" in page


def test_the_home_page_counts_the_colours_in_scope(staff_a, staff_b, follow_up_a):
    assert 'data-color="red">1</span>' in signed_in(staff_a).get("/").content.decode()
    assert 'data-color="red">0</span>' in signed_in(staff_b).get("/").content.decode()


def test_the_person_page_shows_observations_and_the_resident_page_links_to_reporting(staff_a, person_a, resident):
    from fangkong.health import services as health

    health.observation_start(actor=staff_a, person=person_a, kind="home_quarantine", reason="arrival")
    page = signed_in(staff_a).get(f"/people/{person_a.pk}/").content.decode()
    assert "居家隔离" in page and "/health/observations/" in page
    assert "/health/me/" in signed_in(resident).get("/accounts/household/").content.decode()
