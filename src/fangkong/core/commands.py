"""What the `fangkong` management commands share: who acts, and a community named on the line.

A command acts as the system administrator (the first active superuser) unless `--as USERNAME`
names a user; either way its audit events say it came from the command line.
"""

from django.core.exceptions import MultipleObjectsReturned
from django.core.management.base import CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.core.actors import bind_context
from fangkong.places.queries import get_community_by_name_for


def command_actor(username: str | None, label: str) -> User:
    users = User.objects.filter(is_active=True)
    actor = users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
    if actor is None:
        raise CommandError(_("找不到用户 %(name)s") % {"name": username} if username
                           else _("还没有系统管理员,请先运行 fangkong createadmin"))
    return bind_context(actor, via="cli", cli_label=label)


def command_community(actor, name: str):
    try:
        return get_community_by_name_for(actor, name)
    except Http404:
        raise CommandError(_("找不到社区“%(name)s”(或不在 %(user)s 的负责范围内)")
                           % {"name": name, "user": actor.get_username()}) from None
    except MultipleObjectsReturned:
        raise CommandError(_("有多个名为“%(name)s”的社区") % {"name": name}) from None
