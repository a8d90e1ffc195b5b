"""Every write about zones: proposals, activation, changes, unlock dates, lifting, and the care inside.

A positive case calls `zone_note_positive` and `zone_propose`; nothing else reaches in here
but explicit service calls. Every change writes a ZoneEvent and an AuditEvent.
"""

from django.db import transaction

from fangkong.core import audit
from fangkong.people.models import Person
from fangkong.zones.models import VULNERABLE_TAGS, CareTask, Zone
from fangkong.zones.places import households_in


# ---------------------------------------------------------------------------
# Zones and their unlock dates
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Care inside zones
# ---------------------------------------------------------------------------

def vulnerable_people(zone: Zone):
    """The people inside the zone with a tag that needs a daily look (dialysis, pregnant, ...)."""
    return (Person.objects.filter(household__in=households_in(zone), tags__tag__in=VULNERABLE_TAGS)
            .distinct().prefetch_related("tags"))


@transaction.atomic
def care_tasks_sync(*, actor, zone: Zone) -> int:
    """Give every vulnerable person inside an active zone a standing daily check; return how many were added.

    Tasks of people no longer inside (moved, untagged) stop; a zone that ended stops them all.
    """
    inside = {} if zone.status != Zone.Status.ACTIVE else {person.pk: person for person in vulnerable_people(zone)}
    existing = {task.person_id: task for task in CareTask.objects.select_for_update().filter(zone=zone)}
    added = []
    for person_id, person in inside.items():
        needs = sorted(tag.tag for tag in person.tags.all() if tag.tag in VULNERABLE_TAGS)
        task = existing.get(person_id)
        if task is None:
            added.append(CareTask(zone=zone, community_id=zone.community_id, person=person,
                                  household_id=person.household_id, needs=needs))
        elif not task.active or task.needs != needs:
            task.active, task.needs = True, needs
            task.save(update_fields=["active", "needs", "updated_at"])
    CareTask.objects.filter(zone=zone, active=True).exclude(person_id__in=inside).update(active=False)
    CareTask.objects.bulk_create(added)
    if added:
        audit.record(actor=actor, action=audit.Action.CREATE, object_type="caretask", community_id=zone.community_id,
                     object_repr=f"{zone} +{len(added)}", fields=["person", "needs"])
    return len(added)
