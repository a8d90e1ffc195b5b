import datetime

import factory

from fangkong.core.idnumbers import compose_resident_id, parse_resident_id
from fangkong.people.models import ImportJob, Person, PersonTag
from fangkong.people.names import pinyin_keys
from tests.places.factories import HouseholdFactory


def resident_id(n: int, *, birth=datetime.date(1980, 1, 1), male=True) -> str:
    """A valid, fictitious resident ID, different for each n."""
    birth = birth + datetime.timedelta(days=n // 500)
    sequence = (n % 500) * 2 + (1 if male else 0)
    return compose_resident_id("150105", birth, sequence)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    household = factory.SubFactory(HouseholdFactory)
    community = factory.SelfAttribute("household.community")
    name = factory.Sequence(lambda n: f"测试{n}")
    id_number = factory.Sequence(resident_id)
    id_last4 = factory.LazyAttribute(lambda p: p.id_number[-4:])
    id_type = "resident_id"
    sex = factory.LazyAttribute(lambda p: parse_resident_id(p.id_number).sex if p.id_type == "resident_id" else "")
    birth_date = factory.LazyAttribute(
        lambda p: parse_resident_id(p.id_number).birth_date if p.id_type == "resident_id" else None)
    name_pinyin = factory.LazyAttribute(lambda p: pinyin_keys(p.name)[0])
    name_initials = factory.LazyAttribute(lambda p: pinyin_keys(p.name)[1])
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    phone_last4 = factory.LazyAttribute(lambda p: p.phone[-4:])

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        for tag in extracted or ():
            PersonTag.objects.create(person=self, tag=tag)


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    file_name = "台账.xlsx"
