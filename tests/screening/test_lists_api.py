"""The list endpoints and console pages: import, progress, masked rows, answers, export; 404 outside scope."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.masking import mask_id_number
from fangkong.core.models import AuditEvent
from fangkong.screening.models import Answer, VerificationBatch
from fangkong.screening.services import verification_batch_import
from tests.clients import signed_in
from tests.people.factories import resident_id
from tests.screening.list_files import HEADER, list_row, list_xlsx

API = "/api/v1"



def _rows(person_a):
    return [list_row(1, name="张三", id_number=person_a.id_number), list_row(2, name="无名", id_number=resident_id(88))]


@pytest.fixture
def batch(staff_a, person_a):
    return verification_batch_import(actor=staff_a, file_name="名单.xlsx", data=list_xlsx(_rows(person_a)),
                                     title="第3批", hours=4)


def _item(batch, line):
    return batch.items.get(line=line)


@pytest.mark.django_db
def test_import_through_the_api_then_list_and_read_rows_masked(staff_a, person_a, community_a):
    client = signed_in(staff_a)
    upload = SimpleUploadedFile("名单.xlsx", list_xlsx(_rows(person_a)))
    response = client.post(f"{API}/verification-batches", {"file": upload, "title": "第3批", "hours": 4})
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["total"], created["answered"], created["columns"], created["community_id"]) == (2, 0, HEADER,
                                                                                                   community_a.id)
    assert created["overdue"] is False
    listed = client.get(f"{API}/verification-batches").json()
    assert [b["id"] for b in listed["items"]] == [created["id"]]
    items = client.get(f"{API}/verification-batches/{created['id']}/items").json()["items"]
    assert items[0]["id_number"] == mask_id_number(person_a.id_number)
    assert items[0]["match_kind"] == "id_number" and items[0]["person_id"] == person_a.id
    assert person_a.id_number not in response.content.decode() + str(items)


@pytest.mark.django_db
def test_api_refusals_are_chinese_and_write_nothing(staff_a):
    client = signed_in(staff_a)
    no_id = SimpleUploadedFile("名单.xlsx", list_xlsx([["张三", "13800001234"]], header=["姓名", "手机号"]))
    response = client.post(f"{API}/verification-batches", {"file": no_id, "title": "x", "hours": 4})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "名单缺少身份证号列"
    data = list_xlsx([list_row(1, name="甲", id_number=resident_id(1))])
    assert client.post(f"{API}/verification-batches", {"file": SimpleUploadedFile("a.xlsx", data), "title": "x",
                                                       "hours": 4}).status_code == 201
    again = client.post(f"{API}/verification-batches", {"file": SimpleUploadedFile("b.xlsx", data), "title": "y",
                                                        "hours": 4})
    assert again.status_code == 409 and "不能重复导入" in again.json()["error"]["message"]
    assert VerificationBatch.objects.count() == 1


@pytest.mark.django_db
def test_answer_through_the_api_and_unknown_answer(batch, grid_member_a):
    client = signed_in(grid_member_a)
    item = _item(batch, 3)
    url = f"{API}/verification-items/{item.id}/answer"
    response = client.post(url, {"answer": "present_verified", "note": "已电话核实"}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["answer"], response.json()["answered_by"]) == ("present_verified", str(grid_member_a))
    bad = client.post(url, {"answer": "maybe"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"answer": "取值不正确"}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_every_list_url_outside_scope_is_404(request, batch, who):
    client = signed_in(request.getfixturevalue(who))
    item = _item(batch, 3)
    assert client.get(f"{API}/verification-batches").json()["count"] == 0
    for url in (f"/verification-batches/{batch.id}", f"/verification-batches/{batch.id}/items",
                f"/verification-batches/{batch.id}/export"):
        assert client.get(f"{API}{url}").status_code == 404, url
    answer = client.post(f"{API}/verification-items/{item.id}/answer", {"answer": "left"},
                         content_type="application/json")
    assert answer.status_code == 404
    for name, pk in (("screening:list_detail", batch.id), ("screening:list_export", batch.id)):
        assert client.get(reverse(name, args=[pk])).status_code == 404
    assert client.post(reverse("screening:list_item_answer", args=[item.id]), {"answer": "left"}).status_code == 404
    assert _item(batch, 3).answer == ""


@pytest.mark.django_db
def test_grid_member_sees_only_their_grids_rows(batch, grid_member_a, person_a):
    items = signed_in(grid_member_a).get(f"{API}/verification-batches/{batch.id}/items").json()
    assert [row["line"] for row in items["items"]] == [3]
    page = signed_in(grid_member_a).get(reverse("screening:list_detail", args=[batch.id]))
    assert "张三" in page.content.decode() and "无名" not in page.content.decode()


@pytest.mark.django_db
def test_api_export_is_the_received_layout_and_audited(batch, staff_a, person_a):
    response = signed_in(staff_a).get(f"{API}/verification-batches/{batch.id}/export?fmt=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:len(HEADER)] == HEADER and rows[1][3] == person_a.id_number
    assert AuditEvent.objects.filter(action="export", object_id=str(batch.id)).exists()


@pytest.mark.django_db
def test_console_list_shows_countdown_and_overdue(batch, staff_a):
    client = signed_in(staff_a)
    page = client.get(reverse("screening:lists")).content.decode()
    assert "第3批" in page and ("剩余 3 小时 59 分" in page or "剩余 4 小时 0 分" in page)
    assert "0/2" in page and 'class="overdue"' not in page
    VerificationBatch.objects.filter(pk=batch.pk).update(deadline=batch.received_at.replace(year=2020))
    page = client.get(reverse("screening:lists")).content.decode()
    assert 'class="overdue"' in page and "已超时" in page


@pytest.mark.django_db
def test_console_answer_inline_returns_the_row(batch, staff_a):
    client = signed_in(staff_a)
    item = _item(batch, 3)
    url = reverse("screening:list_item_answer", args=[item.id])
    response = client.post(url, {"answer": Answer.CONTROLLED, "note": "居家隔离"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<tr") and "居家隔离" in body
    assert _item(batch, 3).answer == Answer.CONTROLLED
    bad = client.post(url, {"answer": "maybe"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "核查结果无效" in bad.content.decode()


@pytest.mark.django_db
def test_console_import_and_filters(staff_a, person_a):
    client = signed_in(staff_a)
    upload = SimpleUploadedFile("名单.xlsx", list_xlsx(_rows(person_a)))
    response = client.post(reverse("screening:list_import"), {"file": upload, "title": "夜间名单", "hours": 3})
    batch = VerificationBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("screening:list_detail", args=[batch.id])
    queue = client.get(reverse("screening:list_detail", args=[batch.id]) + "?queue=on").content.decode()
    assert "无名" in queue and "张三" not in queue
    masked = client.get(reverse("screening:list_detail", args=[batch.id])).content.decode()
    assert mask_id_number(person_a.id_number) in masked and person_a.id_number not in masked


@pytest.mark.django_db
def test_volunteers_and_medics_have_no_list_pages(batch, volunteer, medic):
    for user in (volunteer, medic):
        assert signed_in(user).get(reverse("screening:lists")).status_code == 403
        assert signed_in(user).get(f"{API}/verification-batches").status_code == 403


@pytest.mark.django_db
def test_a_list_over_the_upload_limit_is_refused_naming_the_limit_on_the_page_and_the_api(staff_a, person_a, settings):
    settings.LEDGER_MAX_BYTES = 1024 * 1024
    client = signed_in(staff_a)
    big = list_xlsx(_rows(person_a)) + b"\0" * settings.LEDGER_MAX_BYTES

    page = client.post(reverse("screening:list_import"),
                       {"file": SimpleUploadedFile("名单.xlsx", big), "title": "大名单", "hours": 3})
    api = client.post(f"{API}/verification-batches", {"file": SimpleUploadedFile("名单.xlsx", big), "title": "大名单",
                                                      "hours": 3})

    assert page.status_code == 400 and "文件过大:不能超过 1 MB" in page.content.decode()
    assert api.status_code == 400 and api.json()["error"]["message"] == "文件过大:不能超过 1 MB"
    assert not VerificationBatch.objects.exists()
