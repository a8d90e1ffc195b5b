import datetime

import factory
from django.utils import timezone

from fangkong.screening.models import Arrival, RiskArea
from tests.people.factories import PersonFactory
from tests.places.factories import StreetFactory


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
