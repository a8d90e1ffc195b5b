"""The registry's changes that the daily checks inside zones must follow (nobody in a sealed unit is forgotten).

Zones keeps the checks and sits above the registry, so the registry does not call it: it names
the moment, and settings.FOLLOWERS says who follows it (zones' care_tasks_follow_* services), in
the same transaction as the registry write (see core.followers).
"""

from fangkong.core.followers import follow

HOUSEHOLDS_CHANGED = "people.households_changed"
COMMUNITY_IMPORTED = "people.community_imported"


def care_tasks_follow_people(*, actor, households) -> None:
    """Someone with a tag that needs care moved, or was tagged or untagged, in these households."""
    follow(HOUSEHOLDS_CHANGED, actor=actor, households=households)


def care_tasks_follow_community(*, actor, community) -> None:
    """A ledger import may have added, moved or tagged anyone of the community."""
    follow(COMMUNITY_IMPORTED, actor=actor, community=community)
