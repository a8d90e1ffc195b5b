"""The console's checkpoint pages: gates, posters, the scanner app, passes and cards, passages, self-scan, tracing."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.access import codes, services
from fangkong.access.models import Checkpoint, Pass, Passage
from fangkong.core.models import AuditEvent
from fangkong.people.codes import personal_code
from tests.access.factories import PassageFactory, PassFactory
from tests.clients import signed_in
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_staff_set_up_a_gate_from_the_list_and_land_on_its_page(staff_a, compound_a):
    response = signed_in(staff_a).post(reverse("access:checkpoints"), {
        "community": compound_a.community_id, "name": "驰誉小区南门", "compound": compound_a.pk, "direction": "both",
        "pass_required": "on", "visitors_admitted": "on", "test_within_hours": "48"})

    gate = Checkpoint.objects.get()
    assert response.status_code == 302 and response.url == reverse("access:checkpoint", args=[gate.pk])
    assert gate.pass_required and gate.test_within_hours == 48


def test_a_gate_with_a_bad_rule_stays_on_the_form_with_the_error(staff_a, community_a):
    response = signed_in(staff_a).post(reverse("access:checkpoints"), {
        "community": community_a.pk, "name": "东门", "direction": "both", "opens_at": "06:00"})

    assert response.status_code == 400
    assert "开放时间和关闭时间须同时填写" in response.content.decode()


def test_the_gate_page_shows_todays_figures_recent_passages_and_conflicts(staff_a, gate_a, person_a):
    PassageFactory(checkpoint=gate_a, person=person_a, result="refused", reason="zone_sealed")
    PassageFactory(checkpoint=gate_a, visitor_name="赵访客", visitor_phone="13900001111", offline=True,
                   conflict=True, conflict_note="服务器判定:劝返 · 出 · 本期外出次数已用完")

    page = signed_in(staff_a).get(reverse("access:checkpoint", args=[gate_a.pk])).content.decode()

    assert "封控区足不出户" in page and "139****1111" in page and "13900001111" not in page
    assert "本期外出次数已用完" in page


def test_a_volunteer_sees_the_gate_but_cannot_change_it(volunteer, gate_a):
    client = signed_in(volunteer)

    assert client.get(reverse("access:checkpoint", args=[gate_a.pk])).status_code == 200
    assert client.post(reverse("access:checkpoint", args=[gate_a.pk]), {"name": "x"}).status_code == 403


def test_the_poster_is_a_print_page_with_the_gates_qr_and_its_printing_is_logged(staff_a, gate_a):
    page = signed_in(staff_a).get(reverse("access:poster", args=[gate_a.pk]))

    assert page.status_code == 200 and "<svg" in page.content.decode() and "@page { size: A4" in page.content.decode()
    assert codes.poster_token(gate_a) in page.content.decode()
    assert AuditEvent.objects.filter(object_type="checkpoint", action="export").exists()


def test_the_posters_qr_is_also_a_png(staff_a, gate_a):
    response = signed_in(staff_a).get(reverse("access:poster_png", args=[gate_a.pk]))

    assert response["Content-Type"] == "image/png" and response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_scanner_is_an_installable_app_with_its_manifest_and_service_worker(volunteer, gate_a):
    client = signed_in(volunteer)

    page = client.get(reverse("access:scanner", args=[gate_a.pk])).content.decode()
    manifest = client.get(reverse("access:manifest"))
    worker = client.get(reverse("access:service_worker"))

    assert 'rel="manifest"' in page and "scanner.js" in page and f'data-checkpoint="{gate_a.pk}"' in page
    assert manifest.json()["display"] == "standalone" and manifest.json()["scope"] == "/access/"
    assert {icon["sizes"] for icon in manifest.json()["icons"]} == {"192x192", "512x512"}
    assert worker["Content-Type"] == "application/javascript" and worker["Service-Worker-Allowed"] == "/access/"
    assert "/static/access/scanner.js" in worker.content.decode()


def test_an_outsider_gets_404_for_another_communitys_gate_pages(staff_b, gate_a):
    client = signed_in(staff_b)
    for name in ("access:checkpoint", "access:poster", "access:poster_png", "access:scanner"):
        assert client.get(reverse(name, args=[gate_a.pk])).status_code == 404, name


def test_a_grid_member_issues_a_household_pass_and_prints_its_card(grid_member_a, household_a):
    client = signed_in(grid_member_a)
    until = (timezone.localtime() + datetime.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(reverse("access:passes"), {"kind": "shopping", "household": household_a.pk,
                                                      "valid_until": until, "quota_exits": "1", "quota_days": "3"})
    issued = Pass.objects.get()
    card = client.get(reverse("access:pass_card", args=[issued.pk])).content.decode()

    assert response.status_code == 302
    assert "<svg" in card and "每 3 天 1 次" in card and issued.number in card
    assert AuditEvent.objects.filter(object_type="pass", action="export").exists()


def test_a_person_pass_is_issued_from_the_person_link(grid_member_a, person_a):
    until = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    signed_in(grid_member_a).post(f"{reverse('access:passes')}?person={person_a.pk}",
                                  {"kind": "work", "person": person_a.pk, "valid_until": until})

    assert Pass.objects.get().person == person_a


def test_a_pass_is_revoked_on_its_page_with_a_reason(staff_a, household_a):
    issued = PassFactory(household=household_a, quota_exits=2, quota_days=7)
    client = signed_in(staff_a)

    shown = client.get(reverse("access:pass", args=[issued.pk])).content.decode()
    client.post(reverse("access:pass", args=[issued.pk]), {"reason": "已搬离"})

    assert "剩余 2 次" in shown
    issued.refresh_from_db()
    assert issued.revoke_reason == "已搬离" and issued.revoked_by == staff_a


def test_the_passages_list_filters_conflicts_and_masks_visitors(staff_a, gate_a, person_a):
    PassageFactory(checkpoint=gate_a, person=person_a)
    PassageFactory(checkpoint=gate_a, visitor_name="钱访客", visitor_phone="13900002222", conflict=True,
                   conflict_note="设备时间晚于服务器时间")

    page = signed_in(staff_a).get(reverse("access:passages") + "?conflict=on").content.decode()

    assert "钱访客" in page and "139****2222" in page and "张三" not in page


def test_a_resident_sees_their_passes_and_what_is_left(resident, household_a):
    PassFactory(household=household_a, quota_exits=1, quota_days=3)

    page = signed_in(resident).get(reverse("access:own_passes")).content.decode()

    assert "还剩 1 次" in page


def test_a_resident_registers_a_family_member_at_the_poster(resident, household_a, gate_a):
    child = PersonFactory(household=household_a, name="张小三")
    url = reverse("access:self_scan", args=[codes.poster_token(gate_a)])
    client = signed_in(resident)

    page = client.get(url).content.decode()
    response = client.post(url, {"person": child.pk, "direction": "out", "client_id": str(uuid.uuid4())})

    assert "张小三" in page
    assert "放行 · 出" in response.content.decode()
    assert Passage.objects.get().person == child


def test_a_visitor_registers_at_the_poster_without_signing_in(client, gate_a):
    url = reverse("access:self_scan", args=[codes.poster_token(gate_a)])

    response = client.post(url, {"step": "visitor", "name": "快递员", "phone": "13700001111", "reason": "送快递",
                                 "direction": "in", "client_id": str(uuid.uuid4())})

    assert "放行 · 进 · 访客登记" in response.content.decode()
    assert Passage.objects.get().visitor_name == "快递员"


def test_a_forged_poster_token_is_404(client):
    assert client.get(reverse("access:self_scan", args=["forged:token"])).status_code == 404


def test_the_tracing_page_lists_the_people_near_a_persons_passages(staff_a, gate_a, person_a, household_a):
    neighbour = PersonFactory(household=household_a, name="邻居")
    now = timezone.now()
    PassageFactory(checkpoint=gate_a, person=person_a, occurred_at=now - datetime.timedelta(hours=2))
    PassageFactory(checkpoint=gate_a, person=neighbour, occurred_at=now - datetime.timedelta(hours=2, minutes=10))
    window = {"person": person_a.pk, "minutes": 30,
              "start": (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
              "end": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}

    page = signed_in(staff_a).get(reverse("access:tracing"), window).content.decode()

    assert "邻居" in page and f'value="p{neighbour.pk}"' in page


def test_the_tracing_page_finds_a_person_by_name(staff_a, person_a):
    page = signed_in(staff_a).get(reverse("access:tracing"), {"q": "张"}).content.decode()

    assert f"?person={person_a.pk}" in page


def test_a_volunteer_may_not_open_tracing(volunteer):
    assert signed_in(volunteer).get(reverse("access:tracing")).status_code == 403


def test_a_scan_through_the_api_shows_up_on_the_gates_page(volunteer, staff_a, gate_a, person_a):
    services.passage_register(actor=volunteer, checkpoint=gate_a, client_id=uuid.uuid4(), direction="out",
                              code=personal_code(person_a))

    page = signed_in(staff_a).get(reverse("access:checkpoint", args=[gate_a.pk])).content.decode()

    assert "张三" in page and "放行" in page
