"""What each role may do beyond reading its scope."""

from fangkong.accounts.models import Role

_FULL_VALUE_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_MEMBER, Role.POLICE}
_FULL_EXPORT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF}
_REGISTRY_EDIT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_MEMBER}
_PLACE_EDIT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF}


def is_staff_member(user) -> bool:
    return user.is_authenticated and (user.is_superuser or (bool(user.role) and user.role != Role.RESIDENT))


def may_reveal_full_values(user) -> bool:
    """May see a full ID number or phone on a detail page (after an explicit, logged action)."""
    return user.is_superuser or user.role in _FULL_VALUE_ROLES


def may_export_full_values(user) -> bool:
    return user.is_superuser or user.role in _FULL_EXPORT_ROLES


def may_edit_registry(user) -> bool:
    return user.is_superuser or user.role in _REGISTRY_EDIT_ROLES


def may_edit_places(user) -> bool:
    return user.is_superuser or user.role in _PLACE_EDIT_ROLES


def may_browse_audit(user) -> bool:
    return user.is_superuser or user.role in _PLACE_EDIT_ROLES
