"""The post API: list, set up, close; bad input named; 404 outside scope."""

import pytest

from fangkong.volunteers import services
from fangkong.volunteers.models import Post
from tests.clients import signed_in

pytestmark = pytest.mark.django_db

API = "/api/v1"


def send(client, method: str, url: str, body=None):
    return getattr(client, method)(f"{API}{url}", body, content_type="application/json")


def test_staff_set_up_a_gate_post_and_close_it(community_a, compound_a, staff_a):
    client = signed_in(staff_a)

    created = send(client, "post", "/posts", {"community_id": community_a.pk, "name": "南门卡口", "kind": "gate",
                                              "compound_id": compound_a.pk, "hours_per_day": 16, "headcount": 2})
    assert created.status_code == 201
    body = created.json()
    assert (body["place"], body["hours_per_day"], body["status"]) == ("驰誉小区", 16, "open")

    closed = send(client, "post", f"/posts/{body['id']}/close")
    again = send(client, "post", f"/posts/{body['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert again.status_code == 409


def test_the_list_has_open_posts_first_and_filters_by_zone(zone_post, community_a, staff_a):
    closed = services.post_create(actor=staff_a, community=community_a, name="A 旧岗", kind="other")
    services.post_close(actor=staff_a, post=closed)
    client = signed_in(staff_a)

    listed = send(client, "get", "/posts").json()
    by_zone = send(client, "get", f"/posts?zone={zone_post.zone_id}").json()

    assert [row["id"] for row in listed["items"]] == [zone_post.pk, closed.pk]
    assert [row["id"] for row in by_zone["items"]] == [zone_post.pk]
    assert listed["items"][0]["place"] == "驰誉小区3号楼2单元"


@pytest.mark.parametrize("changes,field", [
    ({"hours_per_day": 30}, "hours_per_day"),
    ({"headcount": 0}, "headcount"),
    ({"kind": "dance"}, "kind"),
    ({"name": ""}, "name"),
])
def test_bad_posts_get_a_400_naming_the_field(community_a, staff_a, changes, field):
    body = {"community_id": community_a.pk, "name": "门岗", "kind": "gate", **changes}

    response = send(signed_in(staff_a), "post", "/posts", body)

    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Post.objects.exists()


def test_a_grid_member_may_list_but_not_set_up_posts(zone_post, community_a, grid_member_a):
    client = signed_in(grid_member_a)

    assert [row["id"] for row in send(client, "get", "/posts").json()["items"]] == [zone_post.pk]
    response = send(client, "post", "/posts", {"community_id": community_a.pk, "name": "门岗", "kind": "gate"})
    assert response.status_code == 403
    assert send(client, "post", f"/posts/{zone_post.pk}/close").status_code == 403


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_community_a_posts_are_404_to_community_b(request, zone_post, community_a, who):
    client = signed_in(request.getfixturevalue(who))

    assert send(client, "get", "/posts").json()["items"] == []
    assert send(client, "post", f"/posts/{zone_post.pk}/close").status_code == 404
    response = send(client, "post", "/posts", {"community_id": community_a.pk, "name": "门岗", "kind": "gate"})
    assert response.status_code == 404
    zone_post.refresh_from_db()
    assert zone_post.status == "open" and Post.objects.count() == 1


def test_a_unit_of_another_community_is_404_naming_the_field(community_b, unit_a, staff_b):
    response = send(signed_in(staff_b), "post", "/posts",
                    {"community_id": community_b.pk, "name": "门岗", "kind": "gate", "unit_id": unit_a.pk})

    assert response.status_code == 404 and "unit_id" in response.json()["error"]["fields"]
