"""fangkong token create USERNAME [--label L] [--as USERNAME]: print a new API bearer token."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.services import token_create
from fangkong.core.commands import command_actor
from fangkong.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API bearer token for a user and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("username", help="令牌所属用户")
        parser.add_argument("--label", default="", help="备注,如用途或设备")
        parser.add_argument("--as", dest="as_user", default=None, help="以该用户身份执行(默认系统管理员)")

    def handle(self, *args, action, username, label, as_user, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("找不到用户 %(name)s") % {"name": username})
        try:
            token = token_create(actor=command_actor(as_user, "token"), user=user, label=label)
        except DomainError as err:
            raise CommandError(err.message) from None
        self.stdout.write(token)
