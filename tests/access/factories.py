import datetime
import uuid

import factory
from django.utils import timezone

from fangkong.access.models import Checkpoint, Pass, Passage
from tests.places.factories import CommunityFactory


class CheckpointFactory(factory.django.DjangoModelFactory):
    """A gate open all day in both directions, with no pass or test asked."""

    class Meta:
        model = Checkpoint

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"{n + 1}号门")


class PassFactory(factory.django.DjangoModelFactory):
    """A household's shopping pass valid from yesterday for thirty days, without a quota unless given."""

    class Meta:
        model = Pass

    household = None
    person = None
    community_id = factory.LazyAttribute(
        lambda o: (o.person.community_id if o.person is not None else o.household.community_id))
    kind = Pass.Kind.SHOPPING
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class PassageFactory(factory.django.DjangoModelFactory):
    """An allowed passage of `person` (or a visitor's, when only visitor_name is given) at `checkpoint`, now."""

    class Meta:
        model = Passage

    checkpoint = factory.SubFactory(CheckpointFactory)
    community_id = factory.SelfAttribute("checkpoint.community_id")
    person = None
    household_id = factory.LazyAttribute(lambda o: o.person.household_id if o.person is not None else None)
    direction = "out"
    occurred_at = factory.LazyFunction(timezone.now)
    result = "allowed"
    client_id = factory.LazyFunction(uuid.uuid4)
    created_at = factory.LazyFunction(timezone.now)
