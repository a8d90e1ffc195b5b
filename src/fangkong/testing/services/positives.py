"""What a positive tube sets off: re-sampling of a pool's people (单管复核) and their households' zones, or cases."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import DomainError
from fangkong.health import services as health_services
from fangkong.health.models import Case, CaseEvent
from fangkong.testing.models import ResampleTask, Sample, Tube
from fangkong.zones import services as zone_services
from fangkong.zones.models import Level


@dataclass
class PositiveChain:
    """What a positive tube set off: its people, their re-sampling tasks, zones and cases, and what was skipped."""

    tube: Tube
    people: list = field(default_factory=list)
    tasks: int = 0
    zones: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def positive_tube_chain(*, actor, tube: Tube) -> PositiveChain:
    """Everything a positive tube sets off, in one transaction.

    A pooled tube: everyone in it gets a re-sampling task (单管复核) with their household and grid,
    and each household is proposed as a controlled zone. A tube of one person (pool size 1 or a
    re-sample) is a positive: it opens a case, whose own chain follows; someone who already has
    an open case gets a line on that case's timeline instead.
    """
    with transaction.atomic():
        samples = list(Sample.objects.filter(tube_id=tube.pk, void=False)
                       .select_related("person", "household__unit__building", "household__compound")
                       .order_by("id"))
        chain = PositiveChain(tube=tube, people=[sample.person for sample in samples])
        if tube.pool_size == 1 or any(sample.resample for sample in samples):
            _open_cases(actor=actor, chain=chain)
        else:
            _resample_everyone(actor=actor, chain=chain, samples=samples)
    return chain


def _resample_everyone(*, actor, chain: PositiveChain, samples: list[Sample]) -> None:
    tube = chain.tube
    households = {}
    tasks = []
    for sample in samples:
        household = sample.household or sample.person.household
        if household is not None:
            households.setdefault(household.pk, household)
        tasks.append(ResampleTask(round_id=tube.round_id, community_id=tube.community_id, tube_id=tube.pk,
                                  person_id=sample.person_id, household=household,
                                  grid_id=household.grid_id if household else None))
    ResampleTask.objects.bulk_create(tasks, ignore_conflicts=True)
    chain.tasks = len(tasks)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=tube, object_type="resampletask",
                 object_repr=_("%(barcode)s 混管阳性:%(n)d 人单管复核") % {"barcode": tube.barcode, "n": len(tasks)},
                 fields=["person", "household", "grid"])
    reason = _("混管阳性 %(barcode)s") % {"barcode": tube.barcode}
    chain.zones, refused = zone_services.zones_propose_for_households(
        actor=actor, level=Level.CONTROLLED, households=list(households.values()), reason=reason)
    chain.notes += [f"{household.shorthand}:{message}" for household, message in refused]


def _open_cases(*, actor, chain: PositiveChain) -> None:
    tube = chain.tube
    for person in chain.people:
        open_case = Case.objects.filter(person=person, status__in=Case.OPEN_STATUSES).first()
        if open_case is not None:
            note = _("单管阳性 %(barcode)s(已是病例,未重复登记)") % {"barcode": tube.barcode}
            health_services.case_event_add(actor=actor, case=open_case, kind=CaseEvent.Kind.NOTE, note=note)
            chain.notes.append(f"{person.name}:{note}")
            continue
        try:
            with transaction.atomic():
                chain.cases.append(health_services.case_open(
                    actor=actor, person=person, source=Case.Source.TEST_RESULT,
                    confirmed_at=tube.resulted_at or timezone.now(), source_ref=tube.barcode))
        except DomainError as err:
            chain.notes.append(f"{person.name}:{err.message}")
