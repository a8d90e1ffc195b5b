"""fangkong export-list BATCH_ID OUT [--as USERNAME]: the answered list, .xlsx or .csv by OUT's suffix"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from fangkong.core.commands import command_actor
from fangkong.core.errors import DomainError
from fangkong.screening.queries import get_batch_for
from fangkong.screening.services import verification_batch_export


class Command(BaseCommand):
    help = "导出核查反馈表:原表列顺序加核查结果列(证件号、电话按原表导出,记入审计日志)"

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int, help="名单编号")
        parser.add_argument("output", help="输出文件 .xlsx 或 .csv")
        parser.add_argument("--as", dest="as_user", help="以该用户身份导出(默认系统管理员)")

    def handle(self, *args, **options):
        actor = command_actor(options["as_user"], "export-list")
        try:
            batch = get_batch_for(actor, options["batch_id"])
        except Http404:
            raise CommandError(_("找不到名单 %(id)s(或不在 %(user)s 的负责范围内)")
                               % {"id": options["batch_id"], "user": actor.get_username()}) from None
        path = Path(options["output"])
        fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
        try:
            content = verification_batch_export(actor=actor, batch=batch, fmt=fmt)
        except DomainError as err:
            raise CommandError(err.message) from None
        try:
            path.write_bytes(content)
        except OSError as err:
            raise CommandError(_("无法写入文件 %(path)s:%(reason)s") % {"path": path, "reason": err.strerror}) from None
        self.stdout.write(_("已导出到 %(path)s") % {"path": path})
