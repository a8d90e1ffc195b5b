"""fangkong token create USERNAME [--label L] [--as USERNAME]: print a new API bearer token."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.accounts.services import token_create
from fangkong.core.actors import bind_context
from fangkong.core.errors import DomainError


def _cli_actor(username: str | None) -> User:
    """The named user, or else the system administrator (the first active superuser)."""
    users = User.objects.filter(is_active=True)
    actor = users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
    if actor is None:
        raise CommandError(_("找不到用户 %(name)s") % {"name": username} if username
                           else _("没有系统管理员账号,请先运行 fangkong createadmin"))
    return bind_context(actor, via="cli", cli_label="token")


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
            token = token_create(actor=_cli_actor(as_user), user=user, label=label)
        except DomainError as err:
            raise CommandError(err.message) from None
        self.stdout.write(token)
