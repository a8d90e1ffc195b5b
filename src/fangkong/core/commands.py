"""Who a `fangkong` management command acts as.

A command acts as the system administrator (the first active superuser) unless `--as USERNAME`
names a user; either way its audit events say it came from the command line.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from fangkong.core.actors import bind_context


def command_actor(username: str | None, label: str):
    users = get_user_model().objects.filter(is_active=True)
    if username:
        actor = users.filter(username=username).first()
    else:
        actor = users.filter(is_superuser=True).order_by("pk").first()
    if actor is None:
        raise CommandError(_("找不到用户 %(name)s") % {"name": username} if username
                           else _("还没有系统管理员,请先运行 fangkong createadmin"))
    return bind_context(actor, via="cli", cli_label=label)
