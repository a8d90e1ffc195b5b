"""The rounds, exemptions and sites API: what site devices and the daily report read; 404 outside scope."""

import pytest

from fangkong.testing.models import RoundExemption, SamplingSite, TestRound
from tests.testing.factories import RoundExemptionFactory, SamplingSiteFactory, TestRoundFactory

API = "/api/v1"


def test_staff_create_read_and_close_a_round(client, staff_a, community_a, grid_a):
    client.force_login(staff_a)
    response = client.post(f"{API}/test-rounds", {"community_id": community_a.pk, "name": "第三轮", "on": "2022-04-12",
                                                  "pool_size": 10, "grid_ids": [grid_a.pk]},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    round_id = response.json()["id"]
    assert response.json()["grid_ids"] == [grid_a.pk]

    assert client.get(f"{API}/test-rounds/{round_id}").json()["name"] == "第三轮"
    assert client.post(f"{API}/test-rounds/{round_id}/close").json()["status"] == "closed"
    assert client.post(f"{API}/test-rounds/{round_id}/close").status_code == 409


def test_a_bad_pool_size_is_a_400_naming_the_field(client, staff_a, community_a):
    client.force_login(staff_a)
    response = client.post(f"{API}/test-rounds", {"community_id": community_a.pk, "name": "x", "on": "2022-04-12",
                                                  "pool_size": 8}, content_type="application/json")
    assert response.status_code == 400
    assert "pool_size" in response.content.decode()


def test_a_grid_of_another_community_in_the_body_is_404(client, staff_a, community_a, grid_b):
    client.force_login(staff_a)
    response = client.post(f"{API}/test-rounds", {"community_id": community_a.pk, "name": "x", "on": "2022-04-12",
                                                  "grid_ids": [grid_b.pk]}, content_type="application/json")
    assert response.status_code == 404
    assert not TestRound.objects.exists()


def test_exemptions_through_the_api(client, staff_a, community_a, person_a):
    round = TestRoundFactory(community=community_a)
    client.force_login(staff_a)
    response = client.post(f"{API}/test-rounds/{round.pk}/exemptions",
                           {"person_id": person_a.pk, "reason": "away", "note": "外地出差"},
                           content_type="application/json")
    assert response.status_code == 201
    listing = client.get(f"{API}/test-rounds/{round.pk}/exemptions").json()
    assert [item["person_name"] for item in listing["items"]] == ["张三"]
    assert RoundExemption.objects.get().recorded_by == staff_a


def test_sites_through_the_api(client, staff_a, community_a, medic):
    client.force_login(staff_a)
    response = client.post(f"{API}/sampling-sites", {"community_id": community_a.pk, "name": "东门采样点",
                                                     "opens_at": "06:00", "closes_at": "11:00",
                                                     "team_ids": [medic.pk]}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["team_ids"] == [medic.pk]
    assert [s["name"] for s in client.get(f"{API}/sampling-sites").json()["items"]] == ["东门采样点"]


def test_a_grid_member_may_read_but_not_create(client, grid_member_a, community_a):
    TestRoundFactory(community=community_a)
    client.force_login(grid_member_a)
    assert client.get(f"{API}/test-rounds").json()["count"] == 1
    response = client.post(f"{API}/test-rounds", {"community_id": community_a.pk, "name": "x", "on": "2022-04-12"},
                           content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_another_communitys_rounds_and_sites_are_invisible_or_404(client, request, who, community_a, person_a):
    round = TestRoundFactory(community=community_a)
    SamplingSiteFactory(community=community_a)
    RoundExemptionFactory(round=round, person=person_a)
    client.force_login(request.getfixturevalue(who))

    assert client.get(f"{API}/test-rounds").json()["count"] == 0
    assert client.get(f"{API}/sampling-sites").json()["count"] == 0
    assert client.get(f"{API}/test-rounds/{round.pk}").status_code == 404
    assert client.get(f"{API}/test-rounds/{round.pk}/exemptions").status_code == 404
    assert client.post(f"{API}/test-rounds/{round.pk}/close").status_code == 404
    assert client.post(f"{API}/test-rounds/{round.pk}/exemptions", {"person_id": person_a.pk, "reason": "away"},
                       content_type="application/json").status_code == 404
    assert client.get(f"{API}/persons/{person_a.pk}/personal-code").status_code == 404
    assert TestRound.objects.get().status == "open"
    assert SamplingSite.objects.count() == 1
