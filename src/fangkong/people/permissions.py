"""Who may change the people registry."""

from django.utils.translation import gettext as _

from fangkong.accounts.roles import may_edit_registry
from fangkong.core.errors import NotAllowed


def require_registry_editor(actor) -> None:
    if not may_edit_registry(actor):
        raise NotAllowed(_("您的角色不能修改人员台账"))
