"""Guard posts: a guarded zone opens its 24-hour post once and closes it; posts by hand with clear refusals."""

import pytest
from django.http import Http404

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.volunteers import services
from fangkong.volunteers.models import Post
from tests.places.factories import CompoundFactory
from tests.zones.factories import ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(unit_a):
    return ZoneFactory(place=unit_a, guarded=True)


def test_a_guarded_zone_opens_its_24_hour_post_once_and_closes_it(guarded, staff_a):
    first = services.posts_open_for_zone(actor=staff_a, zone=guarded)
    again = services.posts_open_for_zone(actor=staff_a, zone=guarded)

    assert first == again and len(first) == 1
    post = first[0]
    assert (post.kind, post.hours_per_day, post.headcount) == ("zone_guard", 24, 2)
    assert (post.compound_id, post.building_id, post.unit_id) == (guarded.compound_id, guarded.building_id,
                                                                 guarded.unit_id)
    assert "驰誉小区3号楼2单元" in post.name

    assert services.posts_close_for_zone(actor=staff_a, zone=guarded) == 1
    assert services.posts_close_for_zone(actor=staff_a, zone=guarded) == 0
    post.refresh_from_db()
    assert post.status == "closed" and post.closed_at is not None
    assert AuditEvent.objects.filter(object_type="post").count() == 2


def test_a_post_set_up_on_a_unit_knows_its_building_and_compound(community_a, unit_a, staff_a):
    post = services.post_create(actor=staff_a, community=community_a, name=" 3号楼 门岗 ", kind="gate", unit=unit_a,
                                hours_per_day=12, headcount=3)

    assert post.name == "3号楼 门岗"
    assert (post.building, post.compound) == (unit_a.building, unit_a.building.compound)
    assert post.created_by == staff_a and post.status == "open"


def test_a_post_of_a_zone_stands_at_the_zone(community_a, guarded, street_admin):
    post = services.post_create(actor=street_admin, community=community_a, name="值守", kind="zone_guard", zone=guarded)

    assert post.unit_id == guarded.unit_id and post.zone == guarded


@pytest.mark.parametrize("changes,field", [
    ({"hours_per_day": 0}, "hours_per_day"),
    ({"hours_per_day": 25}, "hours_per_day"),
    ({"headcount": 0}, "headcount"),
    ({"headcount": 51}, "headcount"),
    ({"kind": "party"}, "kind"),
    ({"name": "   "}, "name"),
])
def test_bad_posts_are_refused_naming_the_field(community_a, staff_a, changes, field):
    data = {"name": "门岗", "kind": "gate", **changes}

    with pytest.raises(DomainError) as err:
        services.post_create(actor=staff_a, community=community_a, **data)

    assert field in err.value.fields
    assert not Post.objects.exists()


def test_a_place_of_another_community_is_refused(community_a, community_b, staff_a, street_admin):
    elsewhere = CompoundFactory(community=community_b, name="建设小区")

    with pytest.raises(DomainError) as err:
        services.post_create(actor=street_admin, community=community_a, name="门岗", kind="gate", compound=elsewhere)

    assert "compound_id" in err.value.fields and "不在该社区内" in err.value.message


def test_a_community_out_of_scope_is_404_and_grid_members_may_not_set_up_posts(community_b, community_a, staff_a,
                                                                              grid_member_a):
    with pytest.raises(Http404):
        services.post_create(actor=staff_a, community=community_b, name="门岗", kind="gate")
    with pytest.raises(NotAllowed):
        services.post_create(actor=grid_member_a, community=community_a, name="门岗", kind="gate")


def test_closing_a_closed_post_says_so(community_a, staff_a):
    post = services.post_create(actor=staff_a, community=community_a, name="门岗", kind="gate")
    services.post_close(actor=staff_a, post=post)

    with pytest.raises(Conflict):
        services.post_close(actor=staff_a, post=post)
    post.refresh_from_db()
    assert post.status == "closed"
