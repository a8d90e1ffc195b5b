"""fangkong import-list / export-list: thin commands over the list services, audited as the command line."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from fangkong.core.models import AuditEvent
from fangkong.screening.models import VerificationBatch
from tests.people.factories import resident_id
from tests.screening.list_files import HEADER, list_row, list_xlsx


def fangkong(*args) -> str:
    out = io.StringIO()
    call_command(args[0].replace("-", "_"), *args[1:], stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def list_file(tmp_path, person_a):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(list_xlsx([list_row(1, name="张三", id_number=person_a.id_number),
                                list_row(2, name="无名", phone="13900000000")]))
    return path


@pytest.mark.django_db
def test_import_then_export_from_the_command_line(admin, staff_a, community_a, list_file, tmp_path, person_a):
    # When community staff import a list from the command line for their community
    out = fangkong("import-list", str(list_file), "--title", "夜间名单", "--hours", "4",
                   "--community", str(community_a.id), "--as", "staff_a")
    batch = VerificationBatch.objects.get()
    # Then it says what it did, and the audit log says it came from the command line
    assert f"已导入名单 {batch.id}“夜间名单”:2 行,匹配到 1 人" in out
    event = AuditEvent.objects.get(action="import")
    assert event.via == "cli" and event.actor == staff_a
    # When the administrator exports it
    target = tmp_path / "反馈.xlsx"
    assert "已导出到" in fangkong("export-list", str(batch.id), str(target))
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert list(rows[0][:len(HEADER)]) == HEADER and rows[1][3] == person_a.id_number
    assert AuditEvent.objects.get(action="export").via == "cli"


@pytest.mark.django_db
def test_bad_input_exits_non_zero_with_the_message(admin, staff_a, community_b, list_file, tmp_path):
    with pytest.raises(CommandError, match="反馈时限"):
        fangkong("import-list", str(list_file), "--title", "x", "--as", "staff_a")
    with pytest.raises(CommandError, match="找不到社区"):
        fangkong("import-list", str(list_file), "--title", "x", "--hours", "2", "--community", str(community_b.id),
                 "--as", "staff_a")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(list_xlsx([list_row(1, name="甲", id_number=resident_id(1)[:17] + "Y")]))
    with pytest.raises(CommandError, match="第 3 行:身份证号"):
        fangkong("import-list", str(bad), "--title", "x", "--hours", "2", "--as", "staff_a")
    with pytest.raises(CommandError, match="找不到名单"):
        fangkong("export-list", "999", str(tmp_path / "out.csv"))
    assert not VerificationBatch.objects.exists()
