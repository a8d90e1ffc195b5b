import datetime

import factory
from django.utils import timezone

from fangkong.places.models import Compound
from fangkong.zones.models import CareTask, Level, Zone, ZonePolicy
from fangkong.zones.places import place_fields


def _place_field(name):
    return factory.LazyAttribute(lambda o: place_fields(o.place)[name])


class ZoneFactory(factory.django.DjangoModelFactory):
    """An active sealed zone started now on `place` (a household, unit, building or compound).

    `ZoneFactory(place=unit_a)`: the place sets the zone's level fields, key and community.
    """

    class Meta:
        model = Zone
        exclude = ["place"]

    place = None
    level = Level.SEALED
    status = Zone.Status.ACTIVE
    started_at = factory.LazyFunction(timezone.now)
    place_kind = _place_field("place_kind")
    place_key = _place_field("place_key")
    compound_id = _place_field("compound_id")
    building_id = _place_field("building_id")
    unit_id = _place_field("unit_id")
    household_id = _place_field("household_id")
    community_id = factory.LazyAttribute(lambda o: Compound.objects.get(pk=o.compound_id).community_id)


class ZonePolicyFactory(factory.django.DjangoModelFactory):
    """A street's unlock policy for controlled zones, in force since 2020."""

    class Meta:
        model = ZonePolicy

    level = Level.CONTROLLED
    days_without_positive = 14
    negative_rounds = 1
    effective_from = datetime.date(2020, 1, 1)


class CareTaskFactory(factory.django.DjangoModelFactory):
    """The daily check of `person` (on dialysis) inside `zone`."""

    class Meta:
        model = CareTask

    zone = None
    person = None
    community = factory.SelfAttribute("person.community")
    household = factory.SelfAttribute("person.household")
    needs = factory.LazyFunction(lambda: ["dialysis"])
