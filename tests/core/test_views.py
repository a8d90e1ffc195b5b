"""Home page counts and the audit log, as each role sees them; what the web server logs."""

import logging
import time

import pytest
from django.core.management.base import CommandError
from django.urls import reverse
from granian.log import log_request_builder

from fangkong.core import audit
from fangkong.core.actors import bind_context
from fangkong.core.management.commands.serve import granian_argv, host_and_port
from fangkong.people.models import Tag
from tests.people.factories import PersonFactory
from tests.testing.factories import ResampleTaskFactory

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


def test_the_access_log_keeps_the_path_but_not_the_query_string(caplog):
    # Given the access log format of the granian command line `fangkong serve` builds, read by granian's own logger
    argv = granian_argv("127.0.0.1:8123", 2)
    log_request = log_request_builder(argv[argv.index("--access-log-fmt") + 1])
    # When a search for a whole ID number is logged
    request = {"addr_remote": "10.0.0.7", "path": "/people/", "qs": "q=110101199003071234", "method": "GET",
               "scheme": "http", "protocol": "HTTP/1.1"}
    with caplog.at_level(logging.INFO, logger="granian.access"):
        log_request(time.time(), time.perf_counter(), request, 200)
    # Then the line names the path and the status, and not the number searched for
    line = caplog.records[-1].getMessage()
    assert '"GET /people/" 200' in line and line.startswith("10.0.0.7 ")
    assert "110101199003071234" not in line and "q=" not in line


def test_serve_listens_where_bind_says_and_refuses_a_bind_without_a_port():
    assert host_and_port("0.0.0.0:8000") == ("0.0.0.0", "8000")
    assert host_and_port("[::1]:8443") == ("::1", "8443")
    with pytest.raises(CommandError):
        host_and_port("localhost")


def test_home_tells_grid_members_how_many_wait_for_a_single_tube_resample(client, grid_member_a, grid_member_b,
                                                                         person_a, grid_a):
    # Given person_a of grid A waits for a single-tube re-sample after a positive pooled tube
    ResampleTaskFactory(tube__round__community=person_a.community, person=person_a)

    # When each grid member opens the home page
    client.force_login(grid_member_a)
    seen_by_a = client.get(reverse("core:home")).content.decode()
    client.force_login(grid_member_b)
    seen_by_b = client.get(reverse("core:home")).content.decode()

    # Then grid A's member is told, with a link to the task list; grid B's is not
    assert "1 人待单管复核" in seen_by_a and reverse("testing:resample_tasks") in seen_by_a
    assert "待单管复核" not in seen_by_b
