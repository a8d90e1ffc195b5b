"""Importing the population ledger (人口台账) as communities keep it."""

import datetime
import time

import pytest
from django.db import OperationalError
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import DomainError, NotAllowed, RateLimited
from fangkong.core.models import AuditEvent
from fangkong.people.models import ImportJob, Person
from fangkong.people.queries import get_import_job_for
from fangkong.people.services import ledger_import, ledger_import_job_start
from fangkong.places.models import Household, Unit
from fangkong.zones.models import CareTask
from tests.people.factories import PersonFactory, resident_id
from tests.people.ledger_files import HEADER, ledger_csv, ledger_xlsx, person_row
from tests.places.factories import BuildingFactory, CompoundFactory
from tests.zones.factories import ZoneFactory


def run(actor, community, path, **kwargs):
    return ledger_import(actor=actor, community=community, file_name=path.name, data=path.read_bytes(), **kwargs)


@pytest.fixture
def ledger(tmp_path, household_a):
    """Three persons of building 3 unit 2, under a title row; rooms 301 (exists) and 302 (new)."""
    rows = [person_row(1, name="王芳", tags="独居、慢病"),
            person_row(2, room="302", relationship="户主", residency="流动"),
            person_row(3, room="302", relationship="配偶", tags="孕妇")]
    return ledger_xlsx(tmp_path / "春雨社区人口台账.xlsx", rows)


def test_staff_imports_a_ledger_under_a_title_row(staff_a, community_a, ledger, household_a):
    report = run(staff_a, community_a, ledger)

    assert report.ok and (report.rows, report.created, report.households_created) == (3, 3, 1)
    wang = Person.objects.get(name="王芳")
    assert wang.household == household_a and wang.sex == "M" and wang.residency == "resident"
    assert wang.tag_codes() == ["chronic_severe", "elderly_alone"]
    assert Person.objects.get(id_number=resident_id(2)).residency == "floating"
    assert Household.objects.filter(unit=household_a.unit, room="302").count() == 1
    event = AuditEvent.objects.get(action="import")
    assert event.community_id == community_a.id and "新增 3 人" in event.object_repr
    created = AuditEvent.objects.filter(action="create", object_type="person", community=community_a)
    assert sorted(created.values_list("object_id", flat=True)) == sorted(str(p.pk) for p in Person.objects.all())
    assert {e.actor_id for e in created} == {staff_a.pk} and "id_number" in created.first().fields


def test_reimporting_the_same_file_changes_nothing(staff_a, community_a, ledger):
    run(staff_a, community_a, ledger)
    stamps = dict(Person.objects.values_list("id", "updated_at"))
    events = AuditEvent.objects.count()

    report = run(staff_a, community_a, ledger)

    assert report.ok and (report.unchanged, report.created, report.updated) == (3, 0, 0)
    assert dict(Person.objects.values_list("id", "updated_at")) == stamps
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.latest("id").action == "import"


def test_a_changed_row_updates_the_person_found_by_id(staff_a, community_a, tmp_path, household_a):
    person = PersonFactory(household=household_a, name="张三", id_number=resident_id(1), phone="13800001234")
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1, name="张三", phone="13912345678", tags="残疾")])

    report = run(staff_a, community_a, path)

    person.refresh_from_db()
    assert (report.updated, report.created) == (1, 0)
    assert person.phone == "13912345678" and person.phone_last4 == "5678" and person.tag_codes() == ["disabled"]
    event = AuditEvent.objects.get(action="update", object_id=str(person.pk))
    assert event.fields == ["phone", "relationship", "tags"] and event.actor == staff_a


def test_merged_building_and_unit_cells_fill_every_row(admin, community_a, tmp_path, household_a):
    rows = [person_row(1), [None, None, None, "302", "李四", resident_id(2), "", "", "", "", ""],
            [None, None, None, "303", "王五", resident_id(3), "", "", "", "", ""]]
    path = ledger_xlsx(tmp_path / "l.xlsx", rows, merge=["B3:B5", "C3:C5"])

    report = run(admin, community_a, path)

    assert report.ok and report.created == 3
    addresses = Person.objects.values_list("household__building__number", "household__unit__number", "household__room")
    assert set(addresses) == {("3", "2", "301"), ("3", "2", "302"), ("3", "2", "303")}


def test_full_width_digits_and_stray_spaces_are_tolerated(admin, community_a, tmp_path, household_a):
    number = resident_id(7).translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    row = person_row(7, building=" ３号楼 ", unit="２单元", room="３０１室", name=" 赵  六 ", id_number=number,
                     phone="１３９ 0000 0007")
    path = ledger_xlsx(tmp_path / "l.xlsx", [row])

    report = run(admin, community_a, path)

    person = Person.objects.get()
    assert report.ok and person.id_number == resident_id(7) and person.household == household_a
    assert person.name == "赵 六" and person.phone == "13900000007"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_ledgers_in_the_usual_encodings(admin, community_a, tmp_path, household_a, encoding):
    path = ledger_csv(tmp_path / "l.csv", [person_row(1, name="钱七", tags="保安")], encoding=encoding)

    report = run(admin, community_a, path)

    assert report.ok and Person.objects.get().name == "钱七"
    assert Person.objects.get().tag_codes() == ["key_worker"]


def test_synonym_headers_are_recognised_and_unknown_columns_reported(admin, community_a, tmp_path, household_a):
    header = ["楼号", "单元", "门牌号", "姓名", "身份证号码", "手机号", "人口类型", "人员标签", "籍贯"]
    row = ["3", "2", "301", "孙八", resident_id(8), "13900000008", "户籍", "大学生", "山西"]
    path = ledger_xlsx(tmp_path / "l.xlsx", [row], header=header, title=None)

    report = run(admin, community_a, path)

    person = Person.objects.get()
    assert report.ok and report.unknown_columns == ["籍贯"]
    assert person.residency == "registered" and person.tag_codes() == ["returning_student"]


def test_preview_writes_nothing_and_reports_what_would_happen(admin, community_a, ledger):
    report = run(admin, community_a, ledger, dry_run=True)

    assert report.ok and report.dry_run and (report.created, report.households_created) == (3, 1)
    assert Person.objects.count() == 0 and Household.objects.count() == 1
    assert AuditEvent.objects.filter(action="import").count() == 0


def test_missing_units_under_a_known_building_are_created(admin, community_a, tmp_path, building_a):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1, unit="5", room="101"), person_row(2, unit="5", room="102")])

    report = run(admin, community_a, path)

    assert report.households_created == 2
    assert Unit.objects.get(building=building_a, number="5").households.count() == 2


def _single_problem(actor, community, path):
    report = run(actor, community, path)
    assert not report.ok and Person.objects.count() == 0
    return [(p.line, p.field) for p in report.problems], " ".join(p.message for p in report.problems)


@pytest.mark.parametrize("change, field, words", [
    ({"id_number": resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1")}, "身份证号", "校验位"),
    ({"id_number": "150105198002300011"}, "身份证号", "出生日期不存在"),
    ({"phone": "12345"}, "联系电话", "手机号"),
    ({"tags": "独居、外星人"}, "重点人群", "外星人"),
    ({"building": "99"}, "楼栋", "没有 99 号楼"),
    ({"notes": "=HYPERLINK(\"http://x\",\"点我\")"}, "备注", "公式"),
    ({"residency": "常驻人员"}, "人员类型", "常驻人员"),
])
def test_each_bad_row_is_named_by_line_and_field(admin, community_a, tmp_path, household_a, change, field, words):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(2), person_row(1, **change)])

    lines, messages = _single_problem(admin, community_a, path)

    assert lines == [(4, field)] and words in messages


def test_a_formula_cell_is_rejected(admin, community_a, tmp_path, household_a):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1), person_row(2)], formulas=[("K4", "=1+1")])

    lines, messages = _single_problem(admin, community_a, path)

    assert lines == [(4, "备注")] and "公式" in messages


def test_a_duplicate_id_names_both_lines(admin, community_a, tmp_path, household_a):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1), person_row(2), person_row(3, id_number=resident_id(1))])

    lines, messages = _single_problem(admin, community_a, path)

    assert lines == [(3, "身份证号"), (5, "身份证号")] and "第 5 行" in messages and "第 3 行" in messages


def test_an_id_stored_as_a_number_is_reported(admin, community_a, tmp_path, household_a):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1, id_number=float(resident_id(1)[:-1] + "1"))])

    lines, messages = _single_problem(admin, community_a, path)

    assert lines == [(3, "身份证号")] and "文本" in messages


def test_a_building_number_shared_by_two_compounds_needs_the_compound_column(admin, community_a, grid_a, tmp_path,
                                                                              household_a):
    other_compound = CompoundFactory(community=community_a, name="建设小区")
    BuildingFactory(compound=other_compound, grid=grid_a, community=community_a, number="3")
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1)])

    lines, messages = _single_problem(admin, community_a, path)

    assert lines == [(3, "楼栋")] and "小区" in messages
    with_compound = ledger_xlsx(tmp_path / "c.xlsx", [["驰誉小区", *person_row(1)]], header=["小区", *HEADER])
    assert run(admin, community_a, with_compound).ok


def test_every_bad_row_is_reported_and_nothing_is_written(admin, community_a, tmp_path, household_a):
    rows = [person_row(1, phone="1"), person_row(2), person_row(3, building="8"), person_row(4, tags="无此标签")]
    path = ledger_xlsx(tmp_path / "l.xlsx", rows)

    report = run(admin, community_a, path)

    assert [p.line for p in report.problems] == [3, 5, 6]
    assert str(report.problems[0]).startswith("line 3: 联系电话: ")
    assert Person.objects.count() == 0 and Household.objects.count() == 1 and report.created == 0


def test_a_person_registered_in_another_community_is_not_revealed(staff_a, community_a, tmp_path, household_a,
                                                                   person_b):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1, id_number=person_b.id_number)])

    report = run(staff_a, community_a, path)

    assert not report.ok and "其他社区" in report.problems[0].message
    assert person_b.community.name not in report.problems[0].message and person_b.name not in report.problems[0].message
    assert AuditEvent.objects.filter(action="search_full_id", actor=staff_a, community=community_a).exists()


def test_a_preview_cannot_check_more_ids_outside_the_scope_than_a_search_could(staff_a, community_a, tmp_path,
                                                                              household_a, household_b, settings):
    # Given 3 IDs registered in another community and a limit of 2 identity lookups per hour
    settings.FULL_ID_SEARCH_LIMIT = 2
    others = [PersonFactory(household=household_b) for _ in range(3)]
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(n, id_number=p.id_number) for n, p in enumerate(others, 1)])
    # When staff preview a ledger naming all three
    with pytest.raises(RateLimited):
        ledger_import(actor=staff_a, community=community_a, file_name=path.name, data=path.read_bytes(), dry_run=True)


def test_a_street_admin_is_told_which_community_holds_the_id(street_admin, community_a, tmp_path, household_a,
                                                             person_b):
    path = ledger_xlsx(tmp_path / "l.xlsx", [person_row(1, id_number=person_b.id_number)])
    report = run(street_admin, community_a, path)
    assert person_b.community.name in report.problems[0].message
    assert not AuditEvent.objects.filter(action="search_full_id").exists()


@pytest.mark.parametrize("name, data, words", [
    ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "不是有效的电子表格"),
    ("empty.csv", b"", "空"),
    ("big.xlsx", b"PK\x03\x04" + b"\x00" * (50 * 1024 * 1024), "过大"),
    ("notes.txt", b"hello", ".xlsx"),
    ("noheader.csv", "甲,乙\n1,2\n".encode(), "表头"),
    ("nodata.csv", ",".join(HEADER).encode(), "没有数据"),
    ("noid.csv", "楼栋,单元,房号,姓名\n3,2,301,张三\n".encode(), "身份证号"),
    ("noroom.csv", f"楼栋,单元,姓名,身份证号\n3,2,张三,{resident_id(1)}\n".encode(), "房号"),
])
def test_file_level_problems_refuse_the_whole_file(admin, community_a, name, data, words):
    with pytest.raises(DomainError) as caught:
        ledger_import(actor=admin, community=community_a, file_name=name, data=data)

    assert words in caught.value.message and Person.objects.count() == 0


def test_only_editors_holding_the_whole_community_may_import(community_a, ledger, grid_member_a, staff_b, volunteer):
    with pytest.raises(NotAllowed):
        run(grid_member_a, community_a, ledger)
    with pytest.raises(NotAllowed):
        run(volunteer, community_a, ledger)
    with pytest.raises(Http404):
        run(staff_b, community_a, ledger)


def test_progress_is_reported_for_long_files(admin, community_a, tmp_path, household_a):
    path = ledger_csv(tmp_path / "l.csv", [person_row(n) for n in range(1, 2501)])
    calls = []

    run(admin, community_a, path, dry_run=True, progress=lambda *call: calls.append(call))

    assert calls == [("read", 2500, 2500), ("checked", 1000, 2500), ("checked", 2000, 2500), ("checked", 2500, 2500)]


def test_a_committed_import_reports_its_rows_written_too(admin, community_a, tmp_path, household_a):
    path = ledger_csv(tmp_path / "l.csv", [person_row(n) for n in range(1, 1201)])
    calls = []

    run(admin, community_a, path, progress=lambda *call: calls.append(call))

    written = [call for call in calls if call[0] == "written"]
    assert written[0] == ("written", 1200) and written[-1] == ("written", 1200)
    assert calls.index(written[0]) > calls.index(("checked", 1200, 1200))


def test_an_import_job_runs_and_keeps_its_report(admin, community_a, ledger, settings):
    settings.FANGKONG_TASKS_EAGER = True

    job = ledger_import_job_start(actor=admin, community=community_a, file_name=ledger.name,
                                  data=ledger.read_bytes(), dry_run=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.percent == 100
    assert job.rows_read == job.rows_checked == job.rows_written == job.total == 3
    assert job.upload is None  # the file is given up once it is imported
    assert job.report["created"] == 3 and job.report["ok"] and job.finished_at
    assert Person.objects.count() == 3


def test_a_failed_import_job_says_why(admin, community_a, settings):
    settings.FANGKONG_TASKS_EAGER = True

    job = ledger_import_job_start(actor=admin, community=community_a, file_name="x.xlsx", data=b"not a sheet",
                                  dry_run=True)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "电子表格" in job.error


def test_an_import_job_is_hidden_outside_the_scope(admin, staff_a, staff_b, community_a, ledger, settings):
    settings.FANGKONG_TASKS_EAGER = True
    job = ledger_import_job_start(actor=admin, community=community_a, file_name=ledger.name,
                                  data=ledger.read_bytes(), dry_run=True)

    assert get_import_job_for(staff_a, job.pk) == job
    with pytest.raises(Http404):
        get_import_job_for(staff_b, job.pk)


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_land_once(admin, community_a, ledger, race):
    data = ledger.read_bytes()

    def import_once():
        """On SQLite's shared-cache test database a locked table is reported at once instead of waiting,
        so the writer retries as a client would."""
        for _attempt in range(100):
            try:
                return ledger_import(actor=admin, community=community_a, file_name=ledger.name, data=data)
            except OperationalError as err:
                if "locked" not in str(err):
                    raise
                time.sleep(0.05)
        raise AssertionError("the table stayed locked")

    outcomes = race(import_once, import_once)

    assert [outcome.error for outcome in outcomes] == [None, None]
    assert sorted((o.value.created, o.value.unchanged) for o in outcomes) == [(0, 3), (3, 0)]
    assert Person.objects.count() == 3 and Household.objects.filter(room="302").count() == 1


def test_previewed_files_are_dropped_after_a_day(staff_a, household_a, tmp_path, settings):
    settings.FANGKONG_TASKS_EAGER = True
    data = ledger_xlsx(tmp_path / "a.xlsx", [person_row(1)]).read_bytes()
    old = ledger_import_job_start(actor=staff_a, community=household_a.community, file_name="a.xlsx", data=data,
                                  dry_run=True)
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=1, minutes=1))
    ledger_import_job_start(actor=staff_a, community=household_a.community, file_name="a.xlsx", data=data, dry_run=True)
    assert ImportJob.objects.get(pk=old.pk).upload is None
    assert ImportJob.objects.filter(upload__isnull=False).count() == 1


def test_a_preview_with_problems_keeps_no_copy_of_the_file(staff_a, household_a, tmp_path, settings):
    settings.FANGKONG_TASKS_EAGER = True
    data = ledger_xlsx(tmp_path / "a.xlsx", [person_row(1, phone="12")]).read_bytes()
    job = ledger_import_job_start(actor=staff_a, community=household_a.community, file_name="a.xlsx", data=data,
                                  dry_run=True)
    assert ImportJob.objects.get(pk=job.pk).upload is None


def test_someone_imported_into_an_active_zone_gets_their_daily_check(staff_a, community_a, ledger, unit_a):
    zone = ZoneFactory(place=unit_a)

    run(staff_a, community_a, ledger)

    cared = CareTask.objects.filter(zone=zone).values_list("person__name", flat=True)
    assert sorted(cared) == sorted(Person.objects.filter(tags__tag__in=["elderly_alone", "pregnant"])
                                   .distinct().values_list("name", flat=True))
    assert len(cared) == 2
