"""Exporting the ledger: the import layout, masked unless the role may see full values."""

import csv
import io
import zipfile

import pytest
from django.http import Http404
from python_calamine import CalamineWorkbook

from fangkong.core.errors import NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from fangkong.people.services import ledger_export, ledger_import
from tests.people.factories import PersonFactory


@pytest.fixture
def registry(household_a):
    PersonFactory(household=household_a, name="张三", phone="13800001234", relationship="户主",
                  tags=["pregnant", "disabled"])
    PersonFactory(household=household_a, name="李梅", phone="", notes="=HYPERLINK(\"http://evil\",\"点我\")")
    return Person.objects.all()


def xlsx_rows(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_admin_export_has_full_values_and_imports_back_unchanged(admin, community_a, registry):
    content, name = ledger_export(actor=admin, community=community_a)

    rows = xlsx_rows(content)
    assert name.endswith(".xlsx") and rows[0][0] == "春雨社区人口台账"
    assert rows[1][:7] == ["小区", "楼栋", "单元", "房号", "姓名", "证件类型", "身份证号"]
    zhang = next(row for row in rows if row[4] == "张三")
    assert zhang[:4] == ["驰誉小区", "3", "2", "301"]
    assert zhang[6] == registry.get(name="张三").id_number and zhang[9] == "13800001234"
    assert zhang[12] == "残疾人、孕产妇"
    report = ledger_import(actor=admin, community=community_a, file_name=name, data=content)
    assert report.ok and report.unchanged == 2 and (report.created, report.updated) == (0, 0)


def test_csv_export_round_trips_too(staff_a, community_a, registry):
    content, name = ledger_export(actor=staff_a, community=community_a, file_format="csv")

    report = ledger_import(actor=staff_a, community=community_a, file_name=name, data=content)

    assert name.endswith(".csv") and report.ok and report.unchanged == 2


def test_formula_text_is_neutralised_in_both_formats(admin, community_a, registry):
    for file_format, read in (("xlsx", xlsx_rows), ("csv", csv_rows)):
        content, _name = ledger_export(actor=admin, community=community_a, file_format=file_format)

        notes = next(row[13] for row in read(content) if row[4] == "李梅")

        assert notes.startswith("'=HYPERLINK")


def test_exported_xlsx_holds_no_formula_cells(admin, community_a, registry):
    content, _name = ledger_export(actor=admin, community=community_a)

    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f" not in sheet


def test_a_grid_member_gets_a_masked_export_of_their_grid(grid_member_a, community_a, registry, person_b):
    content, _name = ledger_export(actor=grid_member_a, community=community_a)

    rows = xlsx_rows(content)[2:]
    zhang = next(row for row in rows if row[4] == "张三")
    assert zhang[6] == "150***********" + registry.get(name="张三").id_number[-4:]
    assert zhang[9] == "138****1234"
    assert len(rows) == 2 and person_b.name not in {row[4] for row in rows}


def test_a_masked_export_imported_back_writes_nothing(grid_member_a, staff_a, community_a, registry):
    content, name = ledger_export(actor=grid_member_a, community=community_a)
    before = list(Person.objects.values_list("id_number", "phone"))

    report = ledger_import(actor=staff_a, community=community_a, file_name=name, data=content)

    assert not report.ok and {p.field for p in report.problems} == {"身份证号"}
    assert list(Person.objects.values_list("id_number", "phone")) == before


def test_every_export_is_audited(staff_a, community_a, registry):
    ledger_export(actor=staff_a, community=community_a, file_format="csv")

    event = AuditEvent.objects.get(action="export")
    assert event.actor == staff_a and event.community_id == community_a.id and "2 人" in event.object_repr


def test_no_export_outside_the_scope_or_for_residents(staff_b, resident, community_a, registry):
    with pytest.raises(Http404):
        ledger_export(actor=staff_b, community=community_a)
    with pytest.raises(NotAllowed):
        ledger_export(actor=resident, community=community_a)
    assert not AuditEvent.objects.filter(action="export").exists()


def test_roles_that_may_not_edit_the_registry_cannot_export_it(volunteer, medic, community_a, registry):
    for actor in (volunteer, medic):
        with pytest.raises(NotAllowed):
            ledger_export(actor=actor, community=community_a)
    assert not AuditEvent.objects.filter(action="export").exists()
