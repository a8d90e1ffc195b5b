"""What leaves the screen on paper: a household's card of personal codes, a building's untested list."""

from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import NotAllowed
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.places.models import Building
from fangkong.testing.models import TestRound


def household_card_print(*, actor, household) -> None:
    """Log that someone printed a household's card of personal codes: the codes let anyone holding the card
    pass as its people."""
    if not is_staff_member(actor):
        raise NotAllowed(_("只有工作人员可以打印家庭个人码卡片"))
    ensure_in_scope(actor, household)
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=household, object_repr=f"{household} 个人码卡片",
                 fields=["personal_code"])


def untested_list_print(*, actor, round: TestRound, building: Building) -> None:
    """Printing a building's untested list (names, rooms, masked phones) for door knocking is logged as an export."""
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=round,
                 object_repr=_("%(round)s %(building)s 未采样名单") % {"round": round, "building": building},
                 fields=["name", "room", "phone"])
