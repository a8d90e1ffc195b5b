"""Who may change the places tree (and, above it, set up posts where someone must stand)."""

from fangkong.core.roles import Role

_PLACE_EDIT_ROLES = {Role.STREET_ADMIN, Role.COMMUNITY_STAFF}


def may_edit_places(user) -> bool:
    return user.is_superuser or user.role in _PLACE_EDIT_ROLES
