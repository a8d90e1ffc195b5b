"""fangkong import-ledger / export-ledger: thin commands over the ledger services.

The commands run through call_command, which keeps the test's database connection open;
a CommandError is what `fangkong` turns into a non-zero exit status.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from fangkong.core.models import AuditEvent
from fangkong.people.models import Person
from tests.people.factories import resident_id
from tests.people.ledger_files import ledger_xlsx, person_row


@pytest.fixture
def ledger(tmp_path, household_a):
    return ledger_xlsx(tmp_path / "台账.xlsx", [person_row(1), person_row(2, room="302")])


def fangkong(*args) -> tuple[str, str]:
    """Run a fangkong command as `fangkong import-ledger ...` would; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(args[0].replace("-", "_"), *args[1:], stdout=out, stderr=err)
    except CommandError as error:
        err.write(str(error))
        raise CommandError(err.getvalue()) from error
    return out.getvalue(), err.getvalue()


def test_import_exits_zero_and_prints_the_counts(admin, community_a, ledger):
    out, _err = fangkong("import-ledger", str(ledger), "--community", "春雨社区")

    assert "新增 2 人" in out and Person.objects.count() == 2
    event = AuditEvent.objects.get(action="import")
    assert event.via == "cli" and event.actor == admin and "命令行" in event.actor_label


def test_bad_rows_exit_non_zero_each_as_line_and_reason(admin, community_a, tmp_path, household_a):
    bad = resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")
    path = ledger_xlsx(tmp_path / "bad.xlsx", [person_row(1, phone="123"), person_row(2, id_number=bad)])

    with pytest.raises(CommandError) as failed:
        fangkong("import-ledger", str(path), "--community", "春雨社区")

    errors = str(failed.value)
    assert Person.objects.count() == 0
    assert "line 3: 联系电话: " in errors and "line 4: 身份证号: 身份证号校验位错误" in errors


def test_dry_run_writes_nothing(admin, community_a, ledger):
    out, _err = fangkong("import-ledger", str(ledger), "--community", "春雨社区", "--dry-run")

    assert "将新增 2 人" in out and Person.objects.count() == 0


def test_as_names_the_acting_user_and_their_scope_applies(admin, staff_a, staff_b, community_a, ledger):
    fangkong("import-ledger", str(ledger), "--community", "春雨社区", "--as", "staff_a")
    assert AuditEvent.objects.get(action="import").actor == staff_a

    with pytest.raises(CommandError, match="找不到社区"):
        fangkong("import-ledger", str(ledger), "--community", "春雨社区", "--as", "staff_b")


def test_admin_export_writes_full_values_that_import_back_unchanged(admin, community_a, ledger, tmp_path):
    fangkong("import-ledger", str(ledger), "--community", "春雨社区")
    exported = tmp_path / "out.xlsx"

    fangkong("export-ledger", "--community", "春雨社区", "-o", str(exported))
    out, _err = fangkong("import-ledger", str(exported), "--community", "春雨社区")

    assert "新增 0 人,更新 0 人,未变 2 人" in out
    assert _contains(exported, resident_id(1))
    assert AuditEvent.objects.filter(action="export", via="cli").count() == 1


def _contains(path, number: str) -> bool:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return any(number in row for row in rows)


def test_a_file_that_is_not_a_spreadsheet_is_refused(admin, community_a, tmp_path):
    fake = tmp_path / "photo.xlsx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n")

    with pytest.raises(CommandError, match="不是有效的电子表格"):
        fangkong("import-ledger", str(fake), "--community", "春雨社区")
