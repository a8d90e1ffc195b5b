"""What a role may do with the registry beyond reading its scope."""

from django.utils.translation import gettext as _

from fangkong.core.errors import NotAllowed
from fangkong.core.roles import Role

_FULL_VALUE_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_MEMBER, Role.POLICE}
_FULL_EXPORT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF}
_REGISTRY_EDIT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_MEMBER}


def may_reveal_full_values(user) -> bool:
    """May see a full ID number or phone on a detail page (after an explicit, logged action)."""
    return user.is_superuser or user.role in _FULL_VALUE_ROLES


def may_export_full_values(user) -> bool:
    return user.is_superuser or user.role in _FULL_EXPORT_ROLES


def may_edit_registry(user) -> bool:
    return user.is_superuser or user.role in _REGISTRY_EDIT_ROLES


def require_registry_editor(actor) -> None:
    if not may_edit_registry(actor):
        raise NotAllowed(_("您的角色不能修改人员台账"))
