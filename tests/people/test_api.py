"""The people API: masked everywhere, full values only through the audited reveal, 404 outside scope."""

from io import BytesIO, StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from tests.clients import send, signed_in
from tests.people.factories import PersonFactory, resident_id

API = "/api/v1"



def new_person(household, n: int, **extra) -> dict:
    return {"household_id": household.id, "name": "王五", "id_number": resident_id(n), "phone": "13911112222", **extra}


PERSON_A_URLS = [
    ("get", "/persons/{id}", None),
    ("patch", "/persons/{id}", {"name": "张三丰"}),
    ("delete", "/persons/{id}", None),
    ("post", "/persons/{id}/reveal", None),
    ("post", "/persons/{id}/merge", {"duplicate": 999999}),
]


@pytest.mark.parametrize("method,url,body", PERSON_A_URLS)
@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_a_person_outside_scope_is_404_on_every_verb(request, person_a, method, url, body, who):
    # given person A of community A
    # when staff of community B use any verb on them
    response = send(signed_in(request.getfixturevalue(who)), method, url.format(id=person_a.id), body)
    # then A does not exist for them, and is unchanged
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Person.objects.get(pk=person_a.pk).name == "张三"


@pytest.mark.parametrize("who", ["grid_member_b", "staff_b"])
def test_the_person_list_of_community_b_holds_no_one_of_a(request, person_a, person_b, who):
    body = signed_in(request.getfixturevalue(who)).get(f"{API}/persons").json()
    assert [p["id"] for p in body["items"]] == [person_b.id]
    assert body["count"] == 1


def test_the_person_list_masks_id_numbers_and_phones(staff_a, person_a):
    # given 张三 with a full ID number and phone
    response = signed_in(staff_a).get(f"{API}/persons")
    # then the list shows them masked, and the full values appear nowhere in the answer
    item = response.json()["items"][0]
    assert item["id_number"] == person_a.id_number[:3] + "*" * 11 + person_a.id_number[-4:]
    assert item["phone"] == "138****1234"
    assert item["address"] == "3-2-301"
    assert person_a.id_number not in response.content.decode()
    assert "13800001234" not in response.content.decode()


def test_the_person_detail_is_masked_too(grid_member_a, person_a):
    response = signed_in(grid_member_a).get(f"{API}/persons/{person_a.id}")
    assert response.status_code == 200
    assert response.json()["phone"] == "138****1234"
    assert person_a.id_number not in response.content.decode()


def test_reveal_shows_full_values_and_writes_an_audit_event(staff_a, person_a):
    # given community staff looking at 张三
    # when they reveal the full values
    response = send(signed_in(staff_a), "post", f"/persons/{person_a.id}/reveal")
    # then the answer carries them and the audit log says who, how and from where
    assert response.status_code == 200
    assert (response.json()["id_number"], response.json()["phone"]) == (person_a.id_number, "13800001234")
    event = AuditEvent.objects.get(action="reveal", object_id=str(person_a.id))
    assert (event.actor, event.via, event.client_address) == (staff_a, "api", "127.0.0.1")
    assert event.fields == ["id_number", "phone"]


@pytest.mark.parametrize("who", ["medic", "volunteer"])
def test_roles_without_the_right_may_not_reveal(request, person_a, who):
    response = send(signed_in(request.getfixturevalue(who)), "post", f"/persons/{person_a.id}/reveal")
    assert response.status_code == 403
    assert person_a.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_a_resident_may_not_use_the_person_api(resident, person_a):
    assert signed_in(resident).get(f"{API}/persons/{person_a.id}").status_code == 403


@pytest.mark.parametrize("query,expected", [("zs", True), ("张", True), ("3-2-301", True), ("1234", True),
                                            ("ls", False)])
def test_search_by_initials_name_address_and_last_four(staff_a, person_a, query, expected):
    body = signed_in(staff_a).get(f"{API}/persons", {"q": query}).json()
    assert (person_a.id in [p["id"] for p in body["items"]]) is expected


def test_filters_by_tag_residency_grid_and_household(staff_a, person_a, household_a, grid_a):
    tagged = PersonFactory(household=household_a, name="赵六", tags=["pregnant"])
    client = signed_in(staff_a)
    assert [p["id"] for p in client.get(f"{API}/persons?tag=pregnant").json()["items"]] == [tagged.id]
    assert client.get(f"{API}/persons?tag=pregnant").json()["items"][0]["tags"] == ["pregnant"]
    assert client.get(f"{API}/persons?residency=visitor").json()["count"] == 0
    assert client.get(f"{API}/persons?grid={grid_a.id}").json()["count"] == 2
    assert client.get(f"{API}/persons?household={household_a.id}").json()["count"] == 2


@pytest.mark.parametrize("query, field", [("tag=nope", "tag"), ("residency=alien", "residency")])
def test_an_unknown_tag_or_residency_is_400_naming_it(staff_a, person_a, query, field):
    response = signed_in(staff_a).get(f"{API}/persons?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: "取值不正确"}


HUGE_ID = "99999999999999999999"


@pytest.mark.parametrize("method, url, body, field", [
    ("get", f"/persons?household={HUGE_ID}", None, "household"),
    ("get", f"/persons?grid={HUGE_ID}", None, "grid"),
    ("get", f"/persons/{HUGE_ID}", None, "person_id"),
    ("post", f"/persons/{HUGE_ID}/reveal", None, "person_id"),
    ("delete", f"/persons/{HUGE_ID}", None, "person_id"),
    ("get", f"/communities/{HUGE_ID}/ledger/export", None, "community_id"),
    ("post", "/persons", {"household_id": int(HUGE_ID), "name": "王五", "id_number": resident_id(5)}, "household_id"),
])
def test_an_id_too_large_for_the_database_is_400_naming_it(staff_a, method, url, body, field):
    response = send(signed_in(staff_a), method, url, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_merging_with_an_id_too_large_for_the_database_is_400(staff_a, person_a):
    response = send(signed_in(staff_a), "post", f"/persons/{person_a.id}/merge", {"duplicate": int(HUGE_ID)})
    assert response.status_code == 400
    assert "duplicate" in response.json()["error"]["fields"]
    assert Person.objects.filter(pk=person_a.pk).exists()


def test_full_id_searches_beyond_the_limit_get_429(staff_a, person_a, settings):
    # given a limit of 2 full-ID searches per window
    settings.FULL_ID_SEARCH_LIMIT = 2
    client = signed_in(staff_a)
    # when a third different number is asked for
    numbers = [person_a.id_number, resident_id(4321), resident_id(4322)]
    answers = [client.get(f"{API}/persons", {"q": number}) for number in numbers]
    # then the first two answer, the third is refused in the error shape
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].json()["items"][0]["id"] == person_a.id
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert "频繁" in answers[2].json()["error"]["message"]


def test_staff_create_a_person_masked_and_audited(staff_a, household_a):
    response = send(signed_in(staff_a), "post", "/persons", new_person(household_a, 7, tags=["disabled"]))
    assert response.status_code == 201
    body = response.json()
    assert body["id_number"].count("*") == 11
    assert (body["sex"], body["tags"], body["address"]) == ("M", ["disabled"], "3-2-301")
    event = AuditEvent.objects.get(action="create", object_type="person")
    assert (event.via, event.object_id) == ("api", str(body["id"]))


def test_a_person_needs_a_community_or_household(staff_a):
    response = send(signed_in(staff_a), "post", "/persons", {"name": "王五", "id_number": resident_id(7)})
    assert response.status_code == 400
    assert "community_id" in response.json()["error"]["fields"]


def test_a_household_outside_scope_is_404_on_create(staff_b, household_a):
    response = send(signed_in(staff_b), "post", "/persons", new_person(household_a, 7))
    assert response.status_code == 404
    assert not Person.objects.filter(name="王五").exists()


def test_posting_the_same_person_twice_is_a_clear_duplicate_error(staff_a, household_a):
    client = signed_in(staff_a)
    assert send(client, "post", "/persons", new_person(household_a, 7)).status_code == 201
    response = send(client, "post", "/persons", new_person(household_a, 7))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate"
    assert response.json()["error"]["fields"] == {"id_number": "该证件号码已登记"}
    assert Person.objects.filter(name="王五").count() == 1


def test_a_wrong_id_checksum_is_400_naming_the_field_in_chinese(staff_a, household_a):
    number = resident_id(7)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = send(signed_in(staff_a), "post", "/persons", new_person(household_a, 7, id_number=wrong))
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["id_number"] == "身份证号校验位错误"


def test_patch_changes_only_the_fields_sent(staff_a, person_a):
    response = send(signed_in(staff_a), "patch", f"/persons/{person_a.id}", {"phone": "13722223333",
                                                                             "tags": ["key_worker"]})
    assert response.status_code == 200
    person = Person.objects.get(pk=person_a.pk)
    assert (person.name, person.phone, person.id_number) == ("张三", "13722223333", person_a.id_number)
    assert response.json()["tags"] == ["key_worker"]
    assert AuditEvent.objects.get(action="update").via == "api"


def test_patch_with_a_new_resident_id_takes_its_sex_and_birth_date(staff_a, person_a):
    number = resident_id(9, male=False)
    response = send(signed_in(staff_a), "patch", f"/persons/{person_a.id}", {"id_number": number})
    assert response.status_code == 200
    assert response.json()["sex"] == "F"


def test_patch_with_null_household_moves_the_person_out(staff_a, person_a):
    response = send(signed_in(staff_a), "patch", f"/persons/{person_a.id}", {"household_id": None})
    assert response.status_code == 200
    assert Person.objects.get(pk=person_a.pk).household is None


def test_patch_with_a_bad_phone_is_400_naming_the_field(staff_a, person_a):
    response = send(signed_in(staff_a), "patch", f"/persons/{person_a.id}", {"phone": "12345"})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]


def test_staff_delete_a_person(staff_a, person_a):
    client = signed_in(staff_a)
    assert send(client, "delete", f"/persons/{person_a.id}").status_code == 204
    assert client.get(f"{API}/persons/{person_a.id}").status_code == 404
    assert AuditEvent.objects.get(action="delete").object_id == str(person_a.id)


def test_duplicates_are_listed_and_merged(staff_a, person_a, household_a):
    # given a second record of 张三 with the same phone
    twin = PersonFactory(household=household_a, name="张三", phone=person_a.phone, tags=["elderly_alone"])
    client = signed_in(staff_a)
    # when staff list duplicate suspects
    groups = client.get(f"{API}/persons/duplicates").json()
    # then the pair is there, masked
    assert [sorted(p["id"] for p in g["persons"]) for g in groups] == [sorted([person_a.id, twin.id])]
    assert groups[0]["persons"][0]["phone"] == "138****1234"
    # and merging keeps one record with both records' tags
    merged = send(client, "post", f"/persons/{person_a.id}/merge", {"duplicate": twin.id})
    assert merged.status_code == 200
    assert merged.json()["tags"] == ["elderly_alone"]
    assert not Person.objects.filter(pk=twin.pk).exists()
    assert AuditEvent.objects.get(action="merge").via == "api"


def test_merging_with_a_person_outside_scope_is_404(staff_a, person_a, person_b):
    response = send(signed_in(staff_a), "post", f"/persons/{person_a.id}/merge", {"duplicate": person_b.id})
    assert response.status_code == 404
    assert Person.objects.filter(pk=person_b.pk).exists()


def test_a_bearer_token_from_the_command_works_and_audits_as_api(admin, staff_a, person_a):
    # given a token created on the command line for staff A
    out = StringIO()
    call_command("token", "create", "staff_a", stdout=out)
    token = out.getvalue().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    # when it lists and reveals (a POST without any CSRF token)
    assert client.get(f"{API}/persons").json()["count"] == 1
    response = client.post(f"{API}/persons/{person_a.id}/reveal")
    # then both work, and the reveal is logged as staff A through the API
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.via) == (staff_a, "api")


def test_a_bearer_token_sees_only_its_users_scope(staff_b, person_a):
    out = StringIO()
    call_command("token", "create", "staff_b", "--as", "staff_b", stdout=out)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    assert client.get(f"{API}/persons/{person_a.id}").status_code == 404


LEDGER_HEADERS = ["楼栋", "单元", "房号", "姓名", "身份证号", "联系电话", "重点人群"]


def ledger_file(rows, name="台账.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["春雨社区人口台账"])
    sheet.append(LEDGER_HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def import_ledger(client, community, upload, dry_run=False):
    return client.post(f"{API}/communities/{community.id}/ledger/import", {"file": upload, "dry_run": dry_run})


def test_a_ledger_preview_reports_and_writes_nothing(staff_a, household_a, community_a):
    upload = ledger_file([["3", "2", "301", "王五", resident_id(40), "13911112222", "孕产妇"]])
    response = import_ledger(signed_in(staff_a), community_a, upload, dry_run=True)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["dry_run"] is True
    assert response.json()["rows"] == 1
    assert not Person.objects.filter(name="王五").exists()


def test_a_ledger_import_lands_and_is_audited_as_api(staff_a, household_a, community_a):
    upload = ledger_file([["3", "2", "301", "王五", resident_id(40), "13911112222", "孕产妇"],
                          ["3", "2", "302", "赵六", resident_id(41), "", ""]])
    response = import_ledger(signed_in(staff_a), community_a, upload)
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["households_created"]) == (2, 1)
    assert Person.objects.get(name="王五").tag_codes() == ["pregnant"]
    event = AuditEvent.objects.get(action="import")
    assert (event.via, event.community_id) == ("api", community_a.id)


def test_a_ledger_with_a_bad_row_is_400_listing_it_and_lands_nothing(staff_a, household_a, community_a):
    number = resident_id(40)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    upload = ledger_file([["3", "2", "301", "王五", resident_id(41), "", ""],
                          ["3", "2", "301", "赵六", wrong, "", ""]])
    response = import_ledger(signed_in(staff_a), community_a, upload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ledger_invalid"
    assert [(p["line"], p["field"]) for p in error["problems"]] == [(4, "身份证号")]
    assert "校验位" in error["problems"][0]["message"]
    assert not Person.objects.filter(name__in=["王五", "赵六"]).exists()


def test_a_file_that_is_not_a_spreadsheet_is_400_naming_the_file(staff_a, community_a):
    upload = SimpleUploadedFile("台账.xlsx", b"this is not a workbook")
    response = import_ledger(signed_in(staff_a), community_a, upload)
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_importing_into_a_community_outside_scope_is_404(staff_b, household_a, community_a):
    upload = ledger_file([["3", "2", "301", "王五", resident_id(40), "", ""]])
    assert import_ledger(signed_in(staff_b), community_a, upload).status_code == 404
    assert not Person.objects.filter(name="王五").exists()


def test_a_grid_member_may_not_import_a_whole_community(grid_member_a, household_a, community_a):
    upload = ledger_file([["3", "2", "301", "王五", resident_id(40), "", ""]])
    assert import_ledger(signed_in(grid_member_a), community_a, upload).status_code == 403


def exported_cells(response) -> list[str]:
    sheet = load_workbook(BytesIO(response.content)).active
    return [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]


def test_the_ledger_export_is_masked_for_a_grid_member(grid_member_a, person_a, community_a):
    response = signed_in(grid_member_a).get(f"{API}/communities/{community_a.id}/ledger/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    cells = exported_cells(response)
    assert person_a.masked_id_number in cells
    assert person_a.id_number not in cells
    assert AuditEvent.objects.get(action="export").via == "api"


def test_the_ledger_export_is_full_for_community_staff(staff_a, person_a, community_a):
    response = signed_in(staff_a).get(f"{API}/communities/{community_a.id}/ledger/export")
    assert person_a.id_number in exported_cells(response)


def test_exporting_a_community_outside_scope_is_404(staff_b, person_a, community_a):
    assert signed_in(staff_b).get(f"{API}/communities/{community_a.id}/ledger/export").status_code == 404


@pytest.mark.parametrize("size", [1, 30])
def test_the_person_list_costs_the_same_queries_for_1_or_30_persons(staff_a, household_a, size,
                                                                    django_assert_max_num_queries):
    PersonFactory.create_batch(size, household=household_a, tags=["disabled"])
    client = signed_in(staff_a)
    with django_assert_max_num_queries(8):
        assert client.get(f"{API}/persons").json()["count"] == size
