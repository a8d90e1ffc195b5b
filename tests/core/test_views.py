"""The audit log as each role sees it; the 404 page; what the web server logs."""

import logging
import time

import pytest
from django.core.management.base import CommandError
from django.urls import reverse
from granian.log import log_request_builder

from fangkong.core import audit
from fangkong.core.actors import bind_context
from fangkong.core.management.commands.serve import granian_argv, host_and_port

pytestmark = pytest.mark.django_db


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
