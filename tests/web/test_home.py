"""The console's home page: the scope's counts, and what waits for the one who opens it."""

import pytest
from django.urls import reverse

from fangkong.people.models import Tag
from tests.people.factories import PersonFactory
from tests.testing.factories import ResampleTaskFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_scope_counts_for_community_staff(client, staff_a, person_a, person_b):
    # Given one person in community A tagged pregnant, and one in community B
    PersonFactory(household=person_a.household, name="王五", tags=[Tag.PREGNANT])
    client.force_login(staff_a)
    # When staff of community A opens the home page, at the site's root
    response = client.get("/")
    # Then the counts are those of community A only
    assert response.status_code == 200 and reverse("web:home") == "/"
    counts = response.context["counts"]
    assert counts["persons"] == 2
    assert counts["households"] == 1
    assert {t["code"]: t["count"] for t in counts["tags"]}[Tag.PREGNANT] == 1
    assert "孕产妇" in response.content.decode()


def test_home_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_resident_is_sent_from_home_to_their_household(client, resident):
    client.force_login(resident)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:household")


def test_home_tells_grid_members_how_many_wait_for_a_single_tube_resample(client, grid_member_a, grid_member_b,
                                                                         person_a, grid_a):
    # Given person_a of grid A waits for a single-tube re-sample after a positive pooled tube
    ResampleTaskFactory(tube__round__community=person_a.community, person=person_a)

    # When each grid member opens the home page
    client.force_login(grid_member_a)
    seen_by_a = client.get(reverse("web:home")).content.decode()
    client.force_login(grid_member_b)
    seen_by_b = client.get(reverse("web:home")).content.decode()

    # Then grid A's member is told, with a link to the task list; grid B's is not
    assert "1 人待单管复核" in seen_by_a and reverse("testing:resample_tasks") in seen_by_a
    assert "待单管复核" not in seen_by_b
