"""fangkong import-list FILE --title T (--hours H | --deadline "YYYY-MM-DD HH:MM") [--community ID] [--as USERNAME]"""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from fangkong.core.commands import command_actor
from fangkong.core.errors import DomainError
from fangkong.places.queries import get_community_for
from fangkong.screening.services import verification_batch_import


class Command(BaseCommand):
    help = "导入大数据核查名单并与人员台账匹配;任何一行身份证号有误,整份名单都不导入"

    def add_arguments(self, parser):
        parser.add_argument("path", help="名单文件 .xlsx / .csv")
        parser.add_argument("--title", required=True, help="名单名称")
        parser.add_argument("--hours", type=int, help="反馈时限(小时)")
        parser.add_argument("--deadline", help="或截止时间,如 2026-02-01 08:00")
        parser.add_argument("--issued-by", default="", help="下发单位")
        parser.add_argument("--community", type=int, help="社区编号(不填:全街道)")
        parser.add_argument("--as", dest="as_user", help="以该用户身份导入(默认系统管理员)")

    def handle(self, *args, **options):
        actor = command_actor(options["as_user"], "import-list")
        community = self._community(actor, options["community"])
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as err:
            raise CommandError(_("无法读取文件 %(path)s:%(reason)s") % {"path": path, "reason": err.strerror}) from None
        try:
            batch = verification_batch_import(actor=actor, file_name=path.name, data=data, title=options["title"],
                                              hours=options["hours"], deadline=self._deadline(options["deadline"]),
                                              issued_by=options["issued_by"], community=community)
        except DomainError as err:
            raise CommandError(err.message) from None
        matched = batch.items.exclude(person=None).count()
        self.stdout.write(_("已导入名单 %(id)d“%(title)s”:%(n)d 行,匹配到 %(m)d 人,反馈时限 %(deadline)s") % {
            "id": batch.pk, "title": batch.title, "n": batch.row_count, "m": matched,
            "deadline": batch.deadline.astimezone().strftime("%Y-%m-%d %H:%M")})

    @staticmethod
    def _community(actor, pk):
        if pk is None:
            return None
        try:
            return get_community_for(actor, pk)
        except Http404:
            raise CommandError(_("找不到社区 %(id)s(或不在 %(user)s 的负责范围内)")
                               % {"id": pk, "user": actor.get_username()}) from None

    @staticmethod
    def _deadline(text):
        if not text:
            return None
        try:
            return datetime.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            raise CommandError(_("截止时间格式应为 YYYY-MM-DD HH:MM")) from None
