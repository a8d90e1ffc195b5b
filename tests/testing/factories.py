import datetime
import uuid

import factory
from django.utils import timezone

from fangkong.testing.models import (
    AntigenReport,
    LabResult,
    ResampleTask,
    ResultImport,
    RoundExemption,
    Sample,
    SamplingSite,
    TestRound,
    Tube,
)
from tests.places.factories import CommunityFactory


class TestRoundFactory(factory.django.DjangoModelFactory):
    """An open everyone-round today, ten people per tube."""

    __test__ = False

    class Meta:
        model = TestRound

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}轮全员核酸")
    on = factory.LazyFunction(timezone.localdate)
    pool_size = 10


class SamplingSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SamplingSite

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"{n + 1}号采样点")


class TubeFactory(factory.django.DjangoModelFactory):
    """An open tube of the round, at a site of the round's community."""

    class Meta:
        model = Tube

    round = factory.SubFactory(TestRoundFactory)
    community = factory.SelfAttribute("round.community")
    site = factory.SubFactory(SamplingSiteFactory, community=factory.SelfAttribute("..round.community"))
    barcode = factory.Sequence(lambda n: f"T{n:010d}")
    pool_size = factory.SelfAttribute("round.pool_size")
    opened_at = factory.LazyFunction(timezone.now)


class SampleFactory(factory.django.DjangoModelFactory):
    """A sample of `person` in `tube`, taken now; the tube's count is the caller's business."""

    class Meta:
        model = Sample

    tube = factory.SubFactory(TubeFactory)
    round = factory.SelfAttribute("tube.round")
    community = factory.SelfAttribute("tube.community")
    site = factory.SelfAttribute("tube.site")
    household = factory.SelfAttribute("person.household")
    taken_at = factory.LazyFunction(timezone.now)
    client_id = factory.LazyFunction(uuid.uuid4)


class ResampleTaskFactory(factory.django.DjangoModelFactory):
    """An open single-tube re-sampling task of `person` from a positive pooled tube, for the household's grid."""

    class Meta:
        model = ResampleTask

    tube = factory.SubFactory(TubeFactory, result="positive", status="resulted")
    round = factory.SelfAttribute("tube.round")
    community = factory.SelfAttribute("tube.community")
    household = factory.SelfAttribute("person.household")
    grid = factory.SelfAttribute("household.grid")


class RoundExemptionFactory(factory.django.DjangoModelFactory):
    """`person` exempted from `round` as away."""

    class Meta:
        model = RoundExemption

    round = factory.SubFactory(TestRoundFactory)
    community = factory.SelfAttribute("round.community")
    reason = RoundExemption.Reason.AWAY


class ResultImportFactory(factory.django.DjangoModelFactory):
    """A lab's result file of `community`, just imported."""

    class Meta:
        model = ResultImport

    community = factory.SubFactory(CommunityFactory)
    file_name = "检测结果.xlsx"
    rows = 1
    total = 1
    status = ResultImport.Status.DONE


class LabResultFactory(factory.django.DjangoModelFactory):
    """`tube` negative, as the lab reported it an hour ago."""

    class Meta:
        model = LabResult

    tube = factory.SubFactory(TubeFactory, status="resulted", result="negative")
    community = factory.SelfAttribute("tube.community")
    result = factory.SelfAttribute("tube.result")
    reported_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    lab = "金域检验"


class AntigenReportFactory(factory.django.DjangoModelFactory):
    """`person`'s negative antigen self-test, taken now."""

    class Meta:
        model = AntigenReport

    community = factory.SelfAttribute("person.community")
    household = factory.SelfAttribute("person.household")
    result = "negative"
    taken_at = factory.LazyFunction(timezone.now)
