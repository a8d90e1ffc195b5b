"""A street's policies: how long each kind of observation lasts, and how contacts of each kind are observed.

The policy in effect is read through `health.queries` (`observation_days`, `contact_observation_kind`).
"""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import DomainError, NotAllowed, require_choice
from fangkong.health.models import ContactKind, ContactPolicy, Observation, ObservationKind, ObservationPolicy
from fangkong.health.permissions import may_set_policies
from fangkong.health.queries import observation_days
from fangkong.health.services.observations import MAX_DAYS, MIN_DAYS, move_planned_end
from fangkong.places.models import Street


@transaction.atomic
def observation_policy_set(*, actor, street: Street, kind: str, days: int,
                           effective_from: datetime.date) -> ObservationPolicy:
    """Set the days of a kind from a date on, and move the planned end of active observations that started since.

    Each affected observation moves by the difference between the new and the old policy days, so a
    manual extension is kept.
    """
    if not may_set_policies(actor, street):
        raise NotAllowed(_("只有街道领导/专班可以设置隔离政策"))
    if kind not in ObservationKind.values:
        raise DomainError(_("隔离类型不正确"), fields={"kind": _("取值不正确")})
    if not MIN_DAYS <= int(days) <= MAX_DAYS:
        message = _("天数应在 %(a)s–%(b)s 天之间") % {"a": MIN_DAYS, "b": MAX_DAYS}
        raise DomainError(message, fields={"days": message})
    affected = list(Observation.objects.active().select_for_update()
                    .filter(community__street=street, kind=kind, starts_on__gte=effective_from))
    old_days = {obs.pk: observation_days(street, kind, obs.starts_on) for obs in affected}
    policy, _created = ObservationPolicy.objects.update_or_create(
        street=street, kind=kind, effective_from=effective_from, defaults={"days": int(days), "created_by": actor})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=policy, fields=["days", "effective_from"],
                 community_id=None)
    for observation in affected:
        shift = observation_days(street, kind, observation.starts_on) - old_days[observation.pk]
        if shift:
            move_planned_end(actor=actor, observation=observation, note=_("政策调整"),
                             planned_end_on=max(observation.starts_on,
                                                observation.planned_end_on + datetime.timedelta(days=shift)))
    return policy


@transaction.atomic
def contact_policy_set(*, actor, street: Street, kind: str, observation_kind: str) -> ContactPolicy:
    """Set how contacts of a kind are observed in the street from now on (running observations stay as they are)."""
    if not may_set_policies(actor, street):
        raise NotAllowed(_("只有街道领导/专班可以设置密接管控政策"))
    require_choice(kind, ContactKind, field="kind", label=_("接触类型"))
    require_choice(observation_kind, ObservationKind, field="observation_kind", label=_("管控方式"))
    policy, _created = ContactPolicy.objects.update_or_create(
        street=street, kind=kind, defaults={"observation_kind": observation_kind, "created_by": actor})
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=policy, fields=["observation_kind"], community_id=None)
    return policy
