"""fangkong export-ledger --community NAME -o PATH [--as USERNAME]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.core.commands import command_actor
from fangkong.core.errors import DomainError
from fangkong.people.services import ledger_export
from fangkong.places.commands import command_community


class Command(BaseCommand):
    help = "导出人口台账,格式与导入相同;系统管理员导出完整证件号和手机号,其他角色按权限脱敏"

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True, help="社区名称")
        parser.add_argument("-o", "--output", required=True, help="输出文件 .xlsx 或 .csv")
        parser.add_argument("--as", dest="as_user", help="以该用户身份导出(默认系统管理员)")

    def handle(self, *args, **options):
        actor = command_actor(options["as_user"], "export-ledger")
        community = command_community(actor, options["community"])
        path = Path(options["output"])
        file_format = "csv" if path.suffix.lower() == ".csv" else "xlsx"
        try:
            content = ledger_export(actor=actor, community=community, file_format=file_format)[0]
        except DomainError as err:
            raise CommandError(err.message) from None
        try:
            path.write_bytes(content)
        except OSError as err:
            raise CommandError(_("无法写入文件 %(path)s:%(reason)s") % {"path": path, "reason": err.strerror}) from None
        self.stdout.write(_("已导出到 %(path)s") % {"path": path})
