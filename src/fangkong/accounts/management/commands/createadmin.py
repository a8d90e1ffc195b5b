"""`fangkong createadmin USERNAME [--password P]`: create the system administrator (superuser)."""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.accounts.services import user_create
from fangkong.core.errors import DomainError

MIN_PASSWORD_LENGTH = 8


class Command(BaseCommand):
    help = "创建系统管理员账号;不给 --password 时在终端中输入密码"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="密码;不给时在终端中输入(没有终端时必须给出)")

    def handle(self, *args, username, password=None, **options):
        if password is None:
            password = self._prompt()
        if len(password) < MIN_PASSWORD_LENGTH:
            raise CommandError(_("密码至少 %(n)d 位") % {"n": MIN_PASSWORD_LENGTH})
        try:
            user = user_create(actor=None, username=username, password=password, display_name=_("系统管理员"),
                               superuser=True)
        except DomainError as err:
            raise CommandError(err.message) from None
        self.stdout.write(self.style.SUCCESS(_("已创建系统管理员 %(name)s") % {"name": user.username}))

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(_("没有终端可输入密码,请用 --password 给出"))
        first = getpass.getpass(_("密码:"))
        if first != getpass.getpass(_("再输入一次:")):
            raise CommandError(_("两次输入的密码不一致"))
        return first
