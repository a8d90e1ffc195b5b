"""fangkong import-ledger PATH --community NAME [--dry-run] [--as USERNAME]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.core.commands import command_actor
from fangkong.core.errors import DomainError
from fangkong.people.services import ledger_import
from fangkong.places.commands import command_community


class Command(BaseCommand):
    help = "导入人口台账(.xlsx / .csv):全部成功才写入;有问题的行逐一列出,行号即表格中的行号"

    def add_arguments(self, parser):
        parser.add_argument("path", help="台账文件 .xlsx / .csv")
        parser.add_argument("--community", required=True, help="社区名称")
        parser.add_argument("--dry-run", action="store_true", help="只检查,不写入")
        parser.add_argument("--as", dest="as_user", help="以该用户身份导入(默认系统管理员)")

    def handle(self, *args, **options):
        actor = command_actor(options["as_user"], "import-ledger")
        community = command_community(actor, options["community"])
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as err:
            raise CommandError(_("无法读取文件 %(path)s:%(reason)s") % {"path": path, "reason": err.strerror}) from None
        self._total = 0
        try:
            report = ledger_import(actor=actor, community=community, file_name=path.name, data=data,
                                   dry_run=options["dry_run"], progress=self._progress)
        except DomainError as err:
            raise CommandError(err.message) from None
        for column in report.unknown_columns:
            self.stderr.write(_("未识别的列(已忽略):%(column)s") % {"column": column})
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            lines = len({p.line for p in report.problems})
            raise CommandError(_("%(n)d 行有问题,未写入任何数据") % {"n": lines})
        self.stdout.write(self._summary(report))

    @staticmethod
    def _summary(report) -> str:
        counts = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                  "households": report.households_created, "rows": report.rows}
        if report.dry_run:
            return _("预检通过,将新增 %(created)d 人,更新 %(updated)d 人,未变 %(unchanged)d 人,"
                     "新建 %(households)d 户(共 %(rows)d 行)") % counts
        return _("导入完成:新增 %(created)d 人,更新 %(updated)d 人,未变 %(unchanged)d 人,"
                 "新建 %(households)d 户(共 %(rows)d 行)") % counts

    def _progress(self, step: str, rows: int, total: int | None = None) -> None:
        """A line on the terminal for long files, moved on every thousand rows checked."""
        self._total = total or self._total
        if step != "checked" or self._total < 1000 or (rows % 1000 and rows < self._total):
            return
        end = "\n" if rows >= self._total else ""
        sys.stderr.write("\r" + _("已处理 %(done)d/%(total)d 行") % {"done": rows, "total": self._total} + end)
        sys.stderr.flush()
