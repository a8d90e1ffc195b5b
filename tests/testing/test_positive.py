"""A positive tube: its people, their re-sampling tasks, controlled-zone proposals, grid alerts, cases."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.health.models import Case, CaseEvent
from fangkong.testing import queries, services
from fangkong.testing.models import ResampleTask, Result, Tube
from fangkong.zones.models import Level, Zone
from tests.health.factories import CaseFactory
from tests.people.factories import PersonFactory
from tests.places.factories import HouseholdFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory


def results(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("results.csv", text.encode("utf-8"))


@pytest.fixture
def pooled_tube(community_a, household_a, unit_a):
    """Three people of two households in one pooled tube."""
    round = RoundFactory(community=community_a, pool_size=10)
    tube = TubeFactory(round=round, barcode="P0001", sample_count=3, status=Tube.Status.CLOSED)
    other_household = HouseholdFactory(unit=unit_a, room="302")
    people = [PersonFactory(household=household_a, name="王一"), PersonFactory(household=household_a, name="王二"),
              PersonFactory(household=other_household, name="赵三")]
    for person in people:
        SampleFactory(tube=tube, person=person)
    return tube


def test_a_positive_pooled_tube_sets_off_tasks_and_zone_proposals(staff_a, community_a, pooled_tube, household_a,
                                                                   grid_member_a, grid_member_b):
    # when the lab's file says the pooled tube is positive
    result_import = services.lab_results_import(actor=staff_a, community=community_a,
                                                uploaded_file=results("条码,结果\nP0001,阳性\n"))

    # then its three people each have a re-sampling task with household and grid
    assert result_import.positives == 1
    tasks = ResampleTask.objects.filter(tube=pooled_tube)
    assert sorted(tasks.values_list("person__name", flat=True)) == ["王一", "王二", "赵三"]
    assert set(tasks.values_list("grid_id", flat=True)) == {household_a.grid_id}
    assert set(tasks.values_list("status", flat=True)) == {ResampleTask.Status.OPEN}
    # and both households are proposed as controlled zones
    zones = Zone.objects.filter(status=Zone.Status.PROPOSED, level=Level.CONTROLLED)
    assert zones.count() == 2 and set(zones.values_list("household_id", flat=True)) == set(
        tasks.values_list("household_id", flat=True))
    assert "P0001" in zones.first().reason
    # and no case: a pooled positive is not yet a person's positive
    assert not Case.objects.exists()
    # and the grid member of that grid is alerted, the other grid's is not
    assert queries.resample_alert_count(grid_member_a) == 3
    assert [task.household.room for task in queries.resample_tasks_for(grid_member_a)] == ["301", "301", "302"]
    assert queries.resample_alert_count(grid_member_b) == 0


def test_the_chain_runs_in_a_few_queries_per_tube(staff_a, pooled_tube):
    # given a positive pooled tube, when its chain runs
    Tube.objects.filter(pk=pooled_tube.pk).update(result=Result.POSITIVE)
    with CaptureQueriesContext(connection) as context:
        chain = services.positive_tube_chain(actor=staff_a, tube=pooled_tube)

    # then finding its people and creating their tasks does not grow with the people: the zones are the rest
    assert chain.tasks == 3 and len(chain.zones) == 2
    task_queries = [query for query in context.captured_queries if "testing_resampletask" in query["sql"]]
    assert len(task_queries) == 1


def test_a_positive_single_tube_opens_a_case(staff_a, community_a, person_a):
    # given one person sampled alone
    tube = TubeFactory(round=RoundFactory(community=community_a, pool_size=1), barcode="S0001", sample_count=1)
    SampleFactory(tube=tube, person=person_a)

    # when the tube is positive
    services.lab_results_import(actor=staff_a, community=community_a,
                                uploaded_file=results("条码,结果,时间\nS0001,阳性,2022-04-04 08:00\n"))

    # then the person is a case from a test result, with the case's own chain (its zones proposed)
    case = Case.objects.get(person=person_a)
    assert case.source == Case.Source.TEST_RESULT and case.source_ref == "S0001"
    assert Zone.objects.filter(cases=case).exists()
    assert not ResampleTask.objects.exists()


def test_a_positive_resample_of_someone_already_a_case_is_noted(medic, community_a, person_a, pooled_tube):
    # given a person who already has an open case, re-sampled alone after a pooled positive
    case = CaseFactory(person=person_a)
    tube = TubeFactory(round=pooled_tube.round, barcode="R0001", pool_size=1, sample_count=1)
    SampleFactory(tube=tube, person=person_a, resample=True)

    # when the re-sample is positive
    services.lab_results_import(actor=medic, community=community_a, uploaded_file=results("条码,结果\nR0001,阳性\n"))

    # then no second case: the open case's timeline notes the tube
    assert Case.objects.filter(person=person_a).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.NOTE, note__contains="R0001").exists()


def test_resample_tasks_of_my_grids_come_first(street_admin, grid_member_a, pooled_tube, person_b):
    # given tasks in two grids
    other = TubeFactory(round=RoundFactory(community=person_b.community), barcode="P0002", sample_count=1)
    SampleFactory(tube=other, person=person_b)
    for tube in (pooled_tube, other):
        services.positive_tube_chain(actor=street_admin, tube=tube)

    # then the street sees all four, a grid member only their own three
    assert queries.resample_tasks_for(street_admin).count() == 4
    mine = {task.grid_id for task in queries.resample_tasks_for(grid_member_a)}
    assert mine == {pooled_tube.samples.first().household.grid_id}
