import datetime

import factory
from django.utils import timezone

from fangkong.screening.models import (
    Arrival,
    Color,
    FollowUp,
    HouseholdVisit,
    MatchKind,
    RiskArea,
    ScreeningRound,
    VerificationBatch,
    VerificationItem,
    VisitMethod,
)
from tests.people.factories import PersonFactory
from tests.places.factories import CommunityFactory, HouseholdFactory, StreetFactory


class RiskAreaFactory(factory.django.DjangoModelFactory):
    """武汉市武昌区, high risk, from ten days ago and still in force."""

    class Meta:
        model = RiskArea

    street = factory.SubFactory(StreetFactory)
    division_code = "420106"
    division_name = "湖北省武汉市武昌区"
    level = "high"
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    valid_to = None


class ArrivalFactory(factory.django.DjangoModelFactory):
    """An arrival yesterday from 成都市武侯区 by car; `exposed` is whatever the test sets."""

    class Meta:
        model = Arrival

    person = factory.SubFactory(PersonFactory)
    community = factory.SelfAttribute("person.community")
    household = factory.SelfAttribute("person.household")
    origin_code = "510107"
    origin_name = "四川省成都市武侯区"
    arrived_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    travel_mode = "car"


class FollowUpFactory(factory.django.DjangoModelFactory):
    """`person` followed after an arrival, not yet reached: yellow."""

    class Meta:
        model = FollowUp

    person = factory.SubFactory(PersonFactory)
    community = factory.SelfAttribute("person.community")
    reason = "返乡登记"
    computed_color = Color.YELLOW
    risk_color = Color.YELLOW
    next_visit_on = factory.LazyFunction(timezone.localdate)


class VerificationBatchFactory(factory.django.DjangoModelFactory):
    """A list sent down to `community` an hour ago, due in a day."""

    class Meta:
        model = VerificationBatch

    community = None
    street = factory.LazyAttribute(lambda b: b.community.street if b.community else StreetFactory())
    title = factory.Sequence(lambda n: f"大数据核查名单{n + 1}")
    file_name = "核查名单.xlsx"
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    columns = factory.LazyFunction(lambda: ["姓名", "身份证号", "手机号"])
    received_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=23))
    row_count = 1


class VerificationItemFactory(factory.django.DjangoModelFactory):
    """Line 1 of `batch`, matched by ID number to `person` and assigned to the grid of their household."""

    class Meta:
        model = VerificationItem

    batch = factory.SubFactory(VerificationBatchFactory)
    line = factory.Sequence(lambda n: n + 1)
    person = factory.SubFactory(PersonFactory)
    name = factory.SelfAttribute("person.name")
    id_number = factory.SelfAttribute("person.id_number")
    phone = factory.SelfAttribute("person.phone")
    cells = factory.LazyAttribute(lambda i: [i.name, i.id_number, i.phone])
    match_kind = MatchKind.ID_NUMBER
    community = factory.SelfAttribute("person.community")
    grid = factory.SelfAttribute("person.household.grid")


class ScreeningRoundFactory(factory.django.DjangoModelFactory):
    """An open round over the whole community, started now."""

    class Meta:
        model = ScreeningRound

    community = factory.SubFactory(CommunityFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda r: f"第{r.number}轮排查")
    started_at = factory.LazyFunction(timezone.now)


class HouseholdVisitFactory(factory.django.DjangoModelFactory):
    """A door visit of `household` in `round`, just now."""

    class Meta:
        model = HouseholdVisit

    round = factory.SubFactory(ScreeningRoundFactory)
    household = factory.SubFactory(HouseholdFactory)
    community = factory.SelfAttribute("household.community")
    grid = factory.SelfAttribute("household.grid")
    method = VisitMethod.DOOR
    people_present = 1
    visited_at = factory.LazyFunction(timezone.now)
