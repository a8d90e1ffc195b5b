"""Home page counts and the audit log, as each role sees them."""

import pytest
from django.urls import reverse

from fangkong.core import audit
from fangkong.core.actors import bind_context
from fangkong.people.models import Tag
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_scope_counts_for_community_staff(client, staff_a, person_a, person_b):
    # Given one person in community A tagged pregnant, and one in community B
    PersonFactory(household=person_a.household, name="王五", tags=[Tag.PREGNANT])
    client.force_login(staff_a)
    # When staff of community A opens the home page
    response = client.get(reverse("core:home"))
    # Then the counts are those of community A only
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["persons"] == 2
    assert counts["households"] == 1
    assert {t["code"]: t["count"] for t in counts["tags"]}[Tag.PREGNANT] == 1
    assert "孕产妇" in response.content.decode()


def test_home_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_resident_is_sent_from_home_to_their_household(client, resident):
    client.force_login(resident)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:household")


def test_audit_log_lists_events_of_the_staff_members_community_only(client, staff_a, person_a, person_b, admin):
    # Given a reveal in community A and one in community B
    bind_context(admin, via="web")
    audit.record(actor=admin, action=audit.Action.REVEAL, obj=person_a, fields=["id_number"])
    audit.record(actor=admin, action=audit.Action.REVEAL, obj=person_b, fields=["id_number"])
    client.force_login(staff_a)
    # When staff of community A browses the audit log filtered by "reveal"
    response = client.get(reverse("core:audit"), {"action": "reveal"})
    # Then only community A's event is listed
    page = response.context["page"]
    assert [e.object_repr for e in page] == ["张三"]


def test_audit_log_filters_by_actor_and_day(client, staff_a, person_a, admin):
    bind_context(admin, via="web")
    audit.record(actor=admin, action=audit.Action.REVEAL, obj=person_a, fields=["id_number"])
    client.force_login(staff_a)
    assert len(client.get(reverse("core:audit"), {"actor": "nobody"}).context["page"]) == 0
    assert len(client.get(reverse("core:audit"), {"actor": "adm", "day": "2000-01-01"}).context["page"]) == 0
    assert len(client.get(reverse("core:audit"), {"actor": "adm"}).context["page"]) == 1


@pytest.mark.parametrize("who", ["grid_member_a", "volunteer", "medic"])
def test_audit_log_is_refused_to_field_roles(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("core:audit")).status_code == 403


def test_unknown_page_is_a_chinese_404(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
