"""The demo's mass testing in 驰誉小区 this morning, written through the same services the console uses.

Seed 000 samples the compound every morning (here: from three hours ago): a fixed site at the east gate for
buildings 1 and 2, a door-to-door team for the three sealed units, ten people per tube. The
lab has answered for the first tubes (one pooled tube positive, so its people wait for
single-tube re-sampling); building 3 is still being sampled, so the coverage page shows whose
door to knock on. Close contacts in central quarantine are exempted as away.
"""

import datetime
import uuid

from django.utils import timezone

from fangkong.demo.constants import (
    BUILDING_BEING_SAMPLED,
    CHIYU_COMPOUND,
    POOL_SIZE,
    POSITIVE_TUBE,
    SAMPLED_SHARE_SO_FAR,
    TUBES_AWAITING_RESULTS,
)
from fangkong.health.models import Contact
from fangkong.testing import services as testing
from fangkong.testing.models import RoundExemption, SamplingSite, Tube
from fangkong.testing.queries import expected_people
from fangkong.zones.models import Level, Zone
from fangkong.zones.places import households_in


def load_testing(admin, community) -> None:
    morning = timezone.localtime() - datetime.timedelta(hours=3)
    test_round = testing.test_round_create(actor=admin, community=community, name="驰誉小区全员核酸",
                                           on=morning.date(), pool_size=POOL_SIZE)
    _exempt_contacts_in_central_quarantine(admin, test_round)
    gate, door = _sites(admin, community)
    people = list(expected_people(test_round).filter(household__compound__name=CHIYU_COMPOUND)
                  .select_related("household__building").order_by("household__building__number",
                                                                   "household__unit__number", "household__room", "id"))
    sealed = set(_sealed_household_ids(community))
    at_door = [person for person in people if person.household_id in sealed]
    at_gate = [person for person in people if person.household_id not in sealed]
    unfinished = [person for person in at_gate if person.household.building.number == BUILDING_BEING_SAMPLED]
    at_gate = [person for person in at_gate if person.household.building.number != BUILDING_BEING_SAMPLED]
    at_gate += unfinished[:int(len(unfinished) * SAMPLED_SHARE_SO_FAR)]
    gate_tubes = _sample(admin, test_round, gate, at_gate, prefix="DY", start=morning, door_to_door=False)
    _sample(admin, test_round, door, at_door, prefix="SM", start=morning, door_to_door=True)
    _results(admin, gate_tubes[:-TUBES_AWAITING_RESULTS], reported_at=timezone.now() - datetime.timedelta(minutes=10))


def _exempt_contacts_in_central_quarantine(admin, test_round) -> None:
    for contact in Contact.objects.filter(community=test_round.community).select_related("person"):
        testing.round_exemption_add(actor=admin, round=test_round, person=contact.person,
                                    reason=RoundExemption.Reason.AWAY, note="集中隔离")


def _sites(admin, community) -> tuple[SamplingSite, SamplingSite]:
    gate = testing.sampling_site_create(actor=admin, community=community, name="驰誉小区东门采样点",
                                        address="驰誉小区东门", opens_at=datetime.time(5),
                                        closes_at=datetime.time(9))
    door = testing.sampling_site_create(actor=admin, community=community, name="封控单元上门采样队",
                                        kind=SamplingSite.Kind.DOOR_TO_DOOR)
    for zone in Zone.objects.filter(community=community, level=Level.SEALED, status=Zone.Status.ACTIVE):
        testing.site_roster_from_zone(actor=admin, site=door, zone=zone)
    return gate, door


def _sealed_household_ids(community):
    for zone in Zone.objects.filter(community=community, level=Level.SEALED, status=Zone.Status.ACTIVE):
        yield from households_in(zone).values_list("pk", flat=True)


def _sample(admin, test_round, site, people, *, prefix: str, start, door_to_door: bool) -> list[Tube]:
    """Ten people a tube, one every 20 seconds from `start`; the last tube is closed by hand."""
    barcodes = []
    for index, person in enumerate(people):
        barcode = f"{prefix}{start:%y%m%d}{index // test_round.pool_size + 1:04d}"
        testing.sample_register(actor=admin, round=test_round, site=site, barcode=barcode, person=person,
                                client_id=uuid.uuid4(), taken_at=start + datetime.timedelta(seconds=20 * index),
                                door_to_door=door_to_door)
        if not barcodes or barcodes[-1] != barcode:
            barcodes.append(barcode)
    tubes = list(Tube.objects.filter(barcode__in=barcodes).order_by("barcode"))
    for tube in tubes:
        if tube.status == Tube.Status.OPEN:
            testing.tube_close(actor=admin, tube=tube)
    return tubes


def _results(admin, tubes: list[Tube], *, reported_at) -> None:
    for index, tube in enumerate(tubes):
        result = "positive" if index == POSITIVE_TUBE else "negative"
        testing.lab_result_record(actor=admin, tube=tube, result=result, reported_at=reported_at,
                                  lab="赛罕区疾控中心实验室")
