import datetime

import factory
from django.utils import timezone

from fangkong.health.models import (
    Case,
    Contact,
    Destination,
    HealthAlert,
    HealthCheck,
    Observation,
    ObservationKind,
    ObservationReason,
    Reporter,
    Transfer,
    TransferPassenger,
    check_window,
)
from tests.people.factories import PersonFactory
from tests.places.factories import StreetFactory


class ObservationFactory(factory.django.DjangoModelFactory):
    """An active 14-day home quarantine of an arrival that started today."""

    class Meta:
        model = Observation

    person = factory.SubFactory(PersonFactory)
    community = factory.SelfAttribute("person.community")
    household = factory.SelfAttribute("person.household")
    kind = ObservationKind.HOME_QUARANTINE
    reason = ObservationReason.ARRIVAL
    starts_on = factory.LazyFunction(timezone.localdate)
    planned_end_on = factory.LazyAttribute(lambda o: o.starts_on + datetime.timedelta(days=14))


class HealthCheckFactory(factory.django.DjangoModelFactory):
    """A normal self-reported check taken now."""

    class Meta:
        model = HealthCheck

    observation = factory.SubFactory(ObservationFactory)
    person = factory.SelfAttribute("observation.person")
    community = factory.SelfAttribute("observation.community")
    household = factory.SelfAttribute("observation.household")
    taken_at = factory.LazyFunction(timezone.now)
    day = factory.LazyAttribute(lambda o: timezone.localdate(o.taken_at))
    window = factory.LazyAttribute(lambda o: check_window(o.taken_at))
    temperature = "36.5"
    reporter = Reporter.SELF


class CaseFactory(factory.django.DjangoModelFactory):
    """A case found by a nucleic-acid test an hour ago, asymptomatic, at home."""

    class Meta:
        model = Case

    person = factory.SubFactory(PersonFactory)
    community = factory.SelfAttribute("person.community")
    household = factory.SelfAttribute("person.household")
    source = Case.Source.TEST_RESULT
    confirmed_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class ContactFactory(factory.django.DjangoModelFactory):
    """A close contact of `case`, recorded by hand, last exposed an hour ago."""

    class Meta:
        model = Contact

    case = factory.SubFactory(CaseFactory)
    community = factory.SelfAttribute("case.community")
    person = factory.SubFactory(PersonFactory)
    kind = "close"
    source = Contact.Source.MANUAL
    last_exposure_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class DestinationFactory(factory.django.DjangoModelFactory):
    """A makeshift hospital of the street, active."""

    class Meta:
        model = Destination

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}方舱医院")
    kind = Destination.Kind.MAKESHIFT_HOSPITAL


def later(hours: float) -> datetime.datetime:
    """A moment `hours` from now (negative: ago), for transfer windows and the like."""
    return timezone.now() + datetime.timedelta(hours=hours)


def earlier_today(hours: float) -> datetime.datetime:
    """A moment `hours` ago, but no earlier than local midnight: still today just after midnight."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return max(later(-hours), midnight)


class HealthAlertFactory(factory.django.DjangoModelFactory):
    """The alert a 38.2 °C check raises, not yet handled."""

    class Meta:
        model = HealthAlert

    check_record = factory.SubFactory(HealthCheckFactory, temperature="38.2", abnormal=True)
    observation = factory.SelfAttribute("check_record.observation")
    community = factory.SelfAttribute("check_record.community")
    household = factory.SelfAttribute("check_record.household")
    reason = "体温 38.2℃"


class TransferFactory(factory.django.DjangoModelFactory):
    """A planned transfer of `case`'s person to a makeshift hospital, picking up in the next two hours."""

    class Meta:
        model = Transfer
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    community = factory.SelfAttribute("case.community")
    destination_kind = Destination.Kind.MAKESHIFT_HOSPITAL
    window_start = factory.LazyFunction(timezone.now)
    window_end = factory.LazyFunction(lambda: later(2))

    @factory.post_generation
    def passengers(self, create, extracted, **kwargs):
        """The case's person rides unless the test names the passengers."""
        people = extracted if extracted is not None else [self.case.person] if self.case else []
        for person in people:
            TransferPassenger.objects.create(transfer=self, community=self.community, person=person,
                                             household=person.household, case=self.case)
