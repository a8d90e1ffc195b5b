"""The post page: open posts with place, kind, hours, headcount and zone link; closed ones below; forms for staff."""

import pytest

from fangkong.volunteers import services
from fangkong.volunteers.models import Post
from tests.clients import signed_in

pytestmark = pytest.mark.django_db


def test_open_posts_link_their_zone_and_closed_ones_come_below(zone_post, community_a, staff_a):
    old = services.post_create(actor=staff_a, community=community_a, name="旧南门", kind="gate")
    services.post_close(actor=staff_a, post=old)

    text = signed_in(staff_a).get("/volunteers/posts/").content.decode()

    assert f'href="/zones/{zone_post.zone_id}/"' in text
    assert "24 小时" in text and "2 人" in text and "封控值守" in text
    assert text.index(zone_post.name) < text.index("已撤岗") < text.index("旧南门")
    assert 'data-testid="post-form"' in text


def test_community_staff_set_up_and_close_a_post(community_a, compound_a, staff_a):
    client = signed_in(staff_a)

    response = client.post("/volunteers/posts/new/", {"community": community_a.pk, "name": "北门", "kind": "gate",
                                                      "compound": compound_a.pk, "hours_per_day": 12, "headcount": 2})
    post = Post.objects.get()
    assert response.status_code == 302 and post.compound == compound_a and post.hours_per_day == 12

    client.post(f"/volunteers/posts/{post.pk}/close/")
    post.refresh_from_db()
    assert post.status == "closed"


def test_bad_hours_show_the_form_again(community_a, staff_a):
    response = signed_in(staff_a).post("/volunteers/posts/new/", {"community": community_a.pk, "name": "北门",
                                                                  "kind": "gate", "hours_per_day": 30, "headcount": 1})

    assert response.status_code == 400 and not Post.objects.exists()


def test_grid_members_see_posts_without_forms_and_may_not_post(zone_post, community_a, grid_member_a):
    client = signed_in(grid_member_a)

    text = client.get("/volunteers/posts/").content.decode()
    assert zone_post.name in text and 'data-testid="post-form"' not in text
    assert client.post(f"/volunteers/posts/{zone_post.pk}/close/").status_code == 403
    zone_post.refresh_from_db()
    assert zone_post.status == "open"


@pytest.mark.parametrize("who,closing", [("grid_member_b", 403), ("staff_b", 404)])
def test_posts_of_community_a_are_hidden_from_community_b(request, zone_post, who, closing):
    client = signed_in(request.getfixturevalue(who))

    assert zone_post.name not in client.get("/volunteers/posts/").content.decode()
    assert client.post(f"/volunteers/posts/{zone_post.pk}/close/").status_code == closing
    zone_post.refresh_from_db()
    assert zone_post.status == "open"
