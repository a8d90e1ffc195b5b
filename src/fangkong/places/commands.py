"""A community named on a `fangkong` command line (`--community NAME`), looked up in the actor's scope."""

from django.core.exceptions import MultipleObjectsReturned
from django.core.management.base import CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from fangkong.places.queries import get_community_by_name_for


def command_community(actor, name: str):
    try:
        return get_community_by_name_for(actor, name)
    except Http404:
        raise CommandError(_("找不到社区“%(name)s”(或不在 %(user)s 的负责范围内)")
                           % {"name": name, "user": actor.get_username()}) from None
    except MultipleObjectsReturned:
        raise CommandError(_("有多个名为“%(name)s”的社区") % {"name": name}) from None
