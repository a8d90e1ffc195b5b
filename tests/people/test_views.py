"""People pages: list and search (masked), detail with the logged reveal, forms, duplicates and merge."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.core.models import AuditEvent
from fangkong.people.models import Person, Tag
from tests.people.factories import ImportJobFactory, PersonFactory, resident_id
from tests.people.ledger_files import ledger_xlsx, person_row
from tests.places.factories import BuildingFactory, CompoundFactory, GridFactory, HouseholdFactory, UnitFactory

HUGE_ID = "99999999999999999999"

pytestmark = pytest.mark.django_db


def test_list_shows_masked_id_and_phone_and_tags_as_chips(client, staff_a, person_a):
    PersonFactory(household=person_a.household, name="王五", tags=[Tag.DIALYSIS])
    client.force_login(staff_a)
    page = client.get(reverse("people:list")).content.decode()
    assert "张三" in page
    assert person_a.masked_id_number in page and "138****1234" in page
    assert person_a.id_number not in page and "13800001234" not in page
    assert '<span class="chip">透析</span>' in page


@pytest.mark.parametrize("text", ["zs", "张", "1234", "3-2-301", "3-2"])
def test_search_finds_by_name_initials_last4_and_address(client, staff_a, person_a, text):
    PersonFactory(household=person_a.household, name="王五", phone="13900005678")
    client.force_login(staff_a)
    names = [p.name for p in client.get(reverse("people:list"), {"q": text}).context["page"]]
    assert "张三" in names


def test_live_search_renders_only_the_results_partial(client, staff_a, person_a):
    client.force_login(staff_a)
    response = client.get(reverse("people:list"), {"q": "zs"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="results">')
    assert "张三" in page and "<html" not in page


def test_filters_by_tag_residency_and_grid(client, staff_a, person_a, grid_a):
    PersonFactory(household=person_a.household, name="王五", tags=[Tag.PREGNANT], residency="floating")
    client.force_login(staff_a)
    names = lambda **q: [p.name for p in client.get(reverse("people:list"), q).context["page"]]  # noqa: E731
    assert names(tag="pregnant") == ["王五"]
    assert names(residency="floating") == ["王五"]
    assert sorted(names(grid=grid_a.pk)) == ["张三", "王五"]


def test_list_pages_by_fifty(client, staff_a, household_a):
    for _n in range(51):
        PersonFactory(household=household_a)
    client.force_login(staff_a)
    first = client.get(reverse("people:list")).context["page"]
    assert len(first) == 50 and first.paginator.num_pages == 2
    assert len(client.get(reverse("people:list"), {"page": 2}).context["page"]) == 1


def test_live_search_does_not_put_the_search_text_in_the_browser_history(client, staff_a):
    client.force_login(staff_a)
    page = client.get(reverse("people:list")).content.decode()
    assert 'hx-get="/people/"' in page and "hx-push-url" not in page


@pytest.mark.parametrize("query, message", [({"grid": "abc"}, "网格:该网格不存在或不在您的管辖范围内"),
                                            ({"tag": "nope"}, "重点人群:没有“nope”这一重点人群"),
                                            ({"residency": "x"}, "人员类型:没有“x”这一人员类型"),
                                            ({"household": HUGE_ID}, "户:户的编号不正确"),
                                            ({"household": "0"}, "户:户的编号不正确")])
def test_a_bad_filter_is_a_chinese_message_not_an_empty_list(client, staff_a, person_a, query, message):
    client.force_login(staff_a)
    response = client.get(reverse("people:list"), query)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and "共 0 人" not in page
    partial = client.get(reverse("people:list"), query, headers={"HX-Request": "true"}).content.decode()
    assert message in partial


def test_full_id_search_is_rate_limited_with_a_chinese_message(client, staff_a, person_a, settings):
    settings.FULL_ID_SEARCH_LIMIT = 2
    client.force_login(staff_a)
    other = resident_id(4321)
    assert [p.name for p in client.get(reverse("people:list"), {"q": person_a.id_number}).context["page"]] == ["张三"]
    assert [p.name for p in client.get(reverse("people:list"), {"q": other}).context["page"]] == []
    response = client.get(reverse("people:list"), {"q": resident_id(4322)})
    assert response.status_code == 200
    assert "查询过于频繁" in response.content.decode()


def test_grid_member_sees_only_their_grid(client, grid_member_a, person_a, person_b):
    client.force_login(grid_member_a)
    assert [p.name for p in client.get(reverse("people:list")).context["page"]] == ["张三"]


@pytest.mark.parametrize("who, fixture", [("grid_member_a", "person_b"), ("staff_b", "person_a"),
                                          ("grid_member_b", "person_a")])
def test_person_outside_scope_is_404_everywhere(client, request, who, fixture):
    person = request.getfixturevalue(fixture)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("people:detail", args=[person.pk])).status_code == 404
    assert client.post(reverse("people:reveal", args=[person.pk])).status_code == 404
    assert client.get(reverse("people:edit", args=[person.pk])).status_code == 404
    assert client.post(reverse("people:delete", args=[person.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="reveal").exists()


@pytest.mark.parametrize("url_name", ["people:detail", "people:edit", "people:delete", "people:import_job"])
def test_an_id_too_large_for_the_database_is_404(client, staff_a, url_name):
    client.force_login(staff_a)
    url = reverse(url_name, args=[1]).replace("/1/", f"/{HUGE_ID}/")
    assert client.get(url).status_code == 404
    assert client.post(reverse("people:reveal", args=[1]).replace("/1/", f"/{HUGE_ID}/")).status_code == 404


def test_a_merge_naming_ids_too_large_for_the_database_changes_nothing(client, staff_a, person_a):
    client.force_login(staff_a)
    response = client.post(reverse("people:merge"), {"keep": HUGE_ID, "duplicates": f"{person_a.pk},{HUGE_ID}"})
    assert response.status_code == 302
    response = client.post(reverse("people:merge"), {"keep": person_a.pk, "duplicates": f"{person_a.pk},{HUGE_ID}",
                                                     "confirm": "on"})
    assert response.status_code == 302
    assert Person.objects.filter(pk=person_a.pk).exists()


def test_detail_is_masked_until_reveal_which_is_audited(client, staff_a, person_a):
    client.force_login(staff_a)
    # Given the detail page shows masked values and the reveal button
    page = client.get(reverse("people:detail", args=[person_a.pk])).content.decode()
    assert person_a.masked_id_number in page and person_a.id_number not in page
    assert "查看完整信息" in page
    # When the staff member clicks it (HTMX)
    response = client.post(reverse("people:reveal", args=[person_a.pk]), headers={"HX-Request": "true"})
    # Then the identity partial shows the full values and an AuditEvent says who saw what, from where
    part = response.content.decode()
    assert person_a.id_number in part and "13800001234" in part and "<html" not in part
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.object_id, event.via, event.client_address) == (
        staff_a, str(person_a.pk), "web", "127.0.0.1")
    assert event.community_id == person_a.community_id


def test_reveal_without_javascript_renders_the_whole_page(client, staff_a, person_a):
    client.force_login(staff_a)
    page = client.post(reverse("people:reveal", args=[person_a.pk])).content.decode()
    assert "<html" in page and person_a.id_number in page


@pytest.mark.parametrize("who", ["volunteer", "medic"])
def test_reveal_is_absent_and_refused_for_roles_that_may_not(client, request, who, person_a):
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("people:detail", args=[person_a.pk])).content.decode()
    assert "查看完整信息" not in page
    response = client.post(reverse("people:reveal", args=[person_a.pk]))
    assert response.status_code == 403
    assert "您的角色不能查看完整证件号和手机号" in response.content.decode()
    assert person_a.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()


def _person_form(household, **overrides):
    data = {"name": "赵六", "id_type": "resident_id", "id_number": resident_id(900), "phone": "13912345678",
            "community": household.community_id, "compound": "", "address": household.shorthand,
            "relationship": "户主", "residency": "registered", "tags": ["elderly_alone", "hardship"], "notes": ""}
    return {**data, **overrides}


def test_staff_registers_a_person_with_tags(client, staff_a, household_a):
    client.force_login(staff_a)
    response = client.post(reverse("people:create"), _person_form(household_a))
    person = Person.objects.get(name="赵六")
    assert response["Location"] == reverse("people:detail", args=[person.pk])
    assert person.tag_codes() == ["elderly_alone", "hardship"]
    assert person.sex == "M" and person.household == household_a
    assert AuditEvent.objects.filter(action="create", object_id=str(person.pk), via="web").exists()


def test_bad_checksum_is_a_chinese_field_error(client, staff_a, household_a):
    client.force_login(staff_a)
    bad = resident_id(900)[:-1] + ("0" if resident_id(900)[-1] != "0" else "1")
    response = client.post(reverse("people:create"), _person_form(household_a, id_number=bad))
    assert response.status_code == 200
    assert "身份证号校验位错误" in response.content.decode()
    assert not Person.objects.filter(name="赵六").exists()


def test_the_person_form_asks_for_an_address_not_a_list_of_households(client, street_admin, household_a, household_b):
    # Given a street admin, whose scope holds every household of the street
    client.force_login(street_admin)
    # When they open the new person form
    page = client.get(reverse("people:create")).content.decode()
    # Then the household is typed as 楼号-单元-房号, and no household is listed in the page
    assert 'name="address"' in page and 'placeholder="3-2-301"' in page
    assert 'name="household"' not in page and "3-2-301</option>" not in page


@pytest.mark.parametrize("typed", ["3-2-301", "3号楼-2单元-301室", "３－２－３０１", " 3 - 2 - 301 "])
def test_the_address_is_found_however_it_is_written(client, staff_a, household_a, typed):
    client.force_login(staff_a)
    client.post(reverse("people:create"), _person_form(household_a, address=typed))
    assert Person.objects.get(name="赵六").household == household_a


@pytest.mark.parametrize("typed, message", [("3-2-999", "春雨社区没有 3-2-999 这一户,或不在您的管辖范围内"),
                                            ("3-2", "请按 楼号-单元-房号 填写,如 3-2-301")])
def test_an_address_that_names_no_household_is_a_field_error(client, staff_a, household_a, typed, message):
    client.force_login(staff_a)
    response = client.post(reverse("people:create"), _person_form(household_a, address=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["address"] == [message]
    assert not Person.objects.filter(name="赵六").exists()


def test_a_grid_member_cannot_place_a_person_in_another_grids_household(client, grid_member_a, household_a):
    # Given a household of community A in a grid that grid member A does not hold
    other_grid = GridFactory(community=household_a.community, name="第二网格")
    building = BuildingFactory(compound=household_a.compound, grid=other_grid, number="9")
    HouseholdFactory(unit=UnitFactory(building=building, number="1"), room="101")
    client.force_login(grid_member_a)
    # When they type its address
    response = client.post(reverse("people:create"), _person_form(household_a, address="9-1-101"))
    # Then it is not found for them, and nobody is registered
    assert "春雨社区没有 9-1-101 这一户,或不在您的管辖范围内" in response.context["form"].errors["address"]
    assert not Person.objects.filter(name="赵六").exists()


def test_a_grid_member_must_give_an_address(client, grid_member_a, household_a):
    client.force_login(grid_member_a)
    response = client.post(reverse("people:create"), _person_form(household_a, address=""))
    assert response.status_code == 200
    assert response.context["form"].errors["address"] == ["请选择所在的户:网格账号只能登记本网格内有住址的人员"]
    assert not Person.objects.filter(name="赵六").exists()


def test_community_staff_may_register_a_person_without_an_address(client, staff_a, household_a):
    client.force_login(staff_a)
    client.post(reverse("people:create"), _person_form(household_a, address=""))
    person = Person.objects.get(name="赵六")
    assert (person.community, person.household) == (household_a.community, None)


def test_the_same_address_in_two_compounds_needs_the_compound(client, staff_a, household_a):
    # Given a second compound of community A that also has 3-2-301
    compound = CompoundFactory(community=household_a.community, name="新华小区")
    building = BuildingFactory(compound=compound, grid=household_a.grid, number="3")
    twin = HouseholdFactory(unit=UnitFactory(building=building, number="2"), room="301")
    client.force_login(staff_a)
    # When staff type 3-2-301 without a compound, they are asked to choose one
    response = client.post(reverse("people:create"), _person_form(household_a))
    assert response.context["form"].errors["compound"] == ["春雨社区有几个小区都有 3-2-301,请选择小区"]
    # And with the compound chosen, the person lands in that compound's household
    client.post(reverse("people:create"), _person_form(household_a, compound=compound.pk))
    assert Person.objects.get(name="赵六").household == twin


def test_staff_edits_a_person(client, staff_a, person_a):
    client.force_login(staff_a)
    form = _person_form(person_a.household, name="张三丰", id_number=person_a.id_number, phone="13800001234",
                        tags=["disabled"])
    client.post(reverse("people:edit", args=[person_a.pk]), form)
    person_a.refresh_from_db()
    assert person_a.name == "张三丰" and person_a.tag_codes() == ["disabled"]


def test_opening_the_edit_form_is_an_audited_reveal_never_cached(client, staff_a, person_a):
    client.force_login(staff_a)
    # When staff open the edit form, which shows the full ID number and phone
    response = client.get(reverse("people:edit", args=[person_a.pk]))
    page = response.content.decode()
    assert person_a.id_number in page and 'value="3-2-301"' in page
    # Then an AuditEvent says who saw them, and no cache keeps the page
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.object_id, event.via) == (staff_a, str(person_a.pk), "web")
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]


def test_saving_the_edit_form_is_not_counted_as_a_reveal(client, staff_a, person_a):
    client.force_login(staff_a)
    form = _person_form(person_a.household, id_number=person_a.id_number)
    client.post(reverse("people:edit", args=[person_a.pk]), form)
    assert not AuditEvent.objects.filter(action="reveal").exists()


@pytest.mark.parametrize("url_name, method", [("people:detail", "get"), ("people:reveal", "post")])
def test_detail_and_reveal_pages_are_never_cached(client, staff_a, person_a, url_name, method):
    client.force_login(staff_a)
    response = getattr(client, method)(reverse(url_name, args=[person_a.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_staff_deletes_a_person_after_confirming(client, staff_a, person_a):
    client.force_login(staff_a)
    assert "确认删除" in client.get(reverse("people:delete", args=[person_a.pk])).content.decode()
    client.post(reverse("people:delete", args=[person_a.pk]))
    assert not Person.objects.filter(pk=person_a.pk).exists()
    assert AuditEvent.objects.filter(action="delete").exists()


def test_volunteer_cannot_open_the_person_form(client, volunteer, person_a):
    client.force_login(volunteer)
    assert client.get(reverse("people:create")).status_code == 403
    assert client.get(reverse("people:edit", args=[person_a.pk])).status_code == 403


def test_duplicates_are_listed_and_merged_after_confirmation(client, staff_a, person_a):
    # Given two records with the same name and phone
    twin = PersonFactory(household=person_a.household, name="张三", phone="13800001234", tags=[Tag.DISABLED])
    client.force_login(staff_a)
    page = client.get(reverse("people:duplicates")).content.decode()
    assert "姓名和手机号相同" in page and person_a.id_number not in page
    # When staff keeps person_a: first a confirmation, then the merge
    data = {"keep": person_a.pk, "duplicates": f"{person_a.pk},{twin.pk}"}
    confirm = client.post(reverse("people:merge"), data)
    assert "确认合并" in confirm.content.decode() and Person.objects.filter(pk=twin.pk).exists()
    client.post(reverse("people:merge"), {**data, "confirm": "on"})
    # Then the twin is gone and its tag moved to the kept record
    assert not Person.objects.filter(pk=twin.pk).exists()
    person_a.refresh_from_db()
    assert person_a.tag_codes() == ["disabled"]


def test_merge_with_a_person_outside_scope_is_404(client, staff_a, person_a, person_b):
    client.force_login(staff_a)
    response = client.post(reverse("people:merge"),
                           {"keep": person_a.pk, "duplicates": f"{person_a.pk},{person_b.pk}", "confirm": "on"})
    assert response.status_code == 404
    assert Person.objects.filter(pk=person_b.pk).exists()


@pytest.fixture
def eager_tasks(settings):
    settings.FANGKONG_TASKS_EAGER = True


def _upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_ledger_preview_lists_every_problem_and_writes_nothing(client, staff_a, household_a, tmp_path, eager_tasks):
    # Given a ledger with one good row and one wrong checksum
    bad_id = resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")
    path = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2, id_number=bad_id)])
    client.force_login(staff_a)
    # When staff previews it
    response = client.post(reverse("people:import"), {"community": household_a.community_id, "file": _upload(path),
                                                      "preview": "1"}, follow=True)
    # Then the job page reports the problem with its spreadsheet line and field, and nothing is written
    page = response.content.decode()
    assert "身份证号校验位错误" in page and "<td data-label=\"行号\">4</td>" in page
    assert not Person.objects.filter(name__startswith="居民").exists()


def test_ledger_commit_imports_and_the_job_page_polls_until_done(client, staff_a, household_a, tmp_path, eager_tasks):
    path = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2, room="302")])
    client.force_login(staff_a)
    response = client.post(reverse("people:import"), {"community": household_a.community_id, "file": _upload(path),
                                                      "commit": "1"})
    job_url = response["Location"]
    page = client.get(job_url).content.decode()
    assert "导入完成" in page
    assert Person.objects.filter(name__in=["居民1", "居民2"]).count() == 2
    progress = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
    assert progress.lstrip().startswith('<div id="progress"') and "every 2s" not in progress


def test_import_job_of_another_community_is_404(client, staff_a, staff_b, household_a, tmp_path, eager_tasks):
    path = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1)])
    client.force_login(staff_a)
    job_url = client.post(reverse("people:import"), {"community": household_a.community_id, "file": _upload(path),
                                                     "preview": "1"})["Location"]
    client.force_login(staff_b)
    assert client.get(job_url).status_code == 404


def test_export_downloads_a_masked_ledger_for_a_grid_member(client, grid_member_a, person_a):
    client.force_login(grid_member_a)
    response = client.post(reverse("people:export"), {"community": person_a.community_id, "file_format": "xlsx"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    cells = [str(c.value) for row in load_workbook(BytesIO(response.content)).active.iter_rows() for c in row]
    assert person_a.masked_id_number in cells and person_a.id_number not in cells
    assert AuditEvent.objects.filter(action="export").exists()


def _preview(client, community, path):
    response = client.post(reverse("people:import"), {"community": community.pk, "file": _upload(path), "preview": "1"})
    return response["Location"]


def test_a_clean_preview_is_committed_with_one_click_and_only_once(client, staff_a, household_a, tmp_path, eager_tasks):
    # Given staff previewed a clean ledger
    path = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2)])
    client.force_login(staff_a)
    preview_url = _preview(client, household_a.community, path)
    assert 'data-testid="commit-preview"' in client.get(preview_url).content.decode()
    assert not Person.objects.filter(name__startswith="居民").exists()
    # When they click 确认导入 on the preview page
    commit_url = reverse("people:import_job_commit", args=[preview_url.rstrip("/").rsplit("/", 1)[-1]])
    job_url = client.post(commit_url)["Location"]
    # Then the file they previewed is imported, without choosing it again
    assert "导入完成" in client.get(job_url).content.decode()
    assert Person.objects.filter(name__in=["居民1", "居民2"]).count() == 2
    # And the preview cannot be committed a second time
    again = client.post(commit_url, follow=True).content.decode()
    assert "已导入或已过期" in again
    assert Person.objects.filter(name__startswith="居民").count() == 2


def test_a_preview_with_problems_offers_no_commit(client, staff_a, household_a, tmp_path, eager_tasks):
    path = ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1, id_number="150105198001010010")])
    client.force_login(staff_a)
    preview_url = _preview(client, household_a.community, path)
    assert 'data-testid="commit-preview"' not in client.get(preview_url).content.decode()
    commit_url = reverse("people:import_job_commit", args=[preview_url.rstrip("/").rsplit("/", 1)[-1]])
    assert "只有预览通过的台账" in client.post(commit_url, follow=True).content.decode()
    assert not Person.objects.filter(name__startswith="居民").exists()


def test_committing_another_communitys_preview_is_404(client, staff_a, staff_b, household_a, tmp_path, eager_tasks):
    client.force_login(staff_a)
    preview_url = _preview(client, household_a.community, ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1)]))
    client.force_login(staff_b)
    commit_url = reverse("people:import_job_commit", args=[preview_url.rstrip("/").rsplit("/", 1)[-1]])
    assert client.post(commit_url).status_code == 404
    assert not Person.objects.filter(name__startswith="居民").exists()


def test_a_job_past_validation_says_it_is_writing(client, staff_a, community_a):
    job = ImportJobFactory(community=community_a, actor=staff_a, status="running", total=1200, rows_read=1200,
                           rows_checked=1200)
    client.force_login(staff_a)
    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    assert "1200 行已校验,正在写入数据库" in page and "every 2s" in page
