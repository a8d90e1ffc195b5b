import factory

from fangkong.places.models import Building, Community, Compound, Grid, Household, Street, Unit, Venue


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street
        django_get_or_create = ("name",)

    name = "中专路街道"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"社区{n}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Compound

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"小区{n}")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    grid = factory.SubFactory(GridFactory)
    compound = factory.SubFactory(CompoundFactory, community=factory.SelfAttribute("..grid.community"))
    community = factory.SelfAttribute("grid.community")
    number = factory.Sequence(lambda n: str(n + 1))


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    building = factory.SubFactory(BuildingFactory)
    community = factory.SelfAttribute("building.community")
    grid = factory.SelfAttribute("building.grid")
    number = "1"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    unit = factory.SubFactory(UnitFactory)
    building = factory.SelfAttribute("unit.building")
    compound = factory.SelfAttribute("unit.building.compound")
    grid = factory.SelfAttribute("unit.grid")
    community = factory.SelfAttribute("unit.community")
    room = factory.Sequence(lambda n: str(101 + n))


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"商铺{n}")
    kind = Venue.Kind.SHOP
