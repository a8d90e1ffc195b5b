"""A round's figures on a small fixture computed by hand: per hour and site, tubes, turnaround, positives."""

import datetime

import pytest
from django.utils import timezone

from fangkong.testing import queries
from fangkong.testing.models import Result, Tube
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, SamplingSiteFactory, TestRoundFactory, TubeFactory

DAY = datetime.date(2022, 4, 4)


def at(hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(hour, minute)))


@pytest.fixture
def round_with_tubes(community_a, household_a):
    """Site 广场: a positive tube of three people (08:10, 08:15, 09:20). Site 东门: two negative tubes
    (08:40, 09:50). One tube sealed and waiting, one still open. Turnarounds: 4 h, 6 h and 2 h."""
    round = TestRoundFactory(community=community_a, on=DAY)
    square = SamplingSiteFactory(community=community_a, name="广场")
    gate = SamplingSiteFactory(community=community_a, name="东门")
    people = [PersonFactory(household=household_a) for _ in range(5)]

    def tube(site, closed, resulted, result=Result.NEGATIVE):
        return TubeFactory(round=round, site=site, status=Tube.Status.RESULTED, result=result, opened_at=closed,
                           closed_at=closed, resulted_at=resulted)

    positive = tube(square, at(9, 30), at(15, 30), Result.POSITIVE)
    for person, when in zip(people[:3], [at(8, 10), at(8, 15), at(9, 20)], strict=True):
        SampleFactory(tube=positive, person=person, taken_at=when)
    SampleFactory(tube=tube(gate, at(8, 45), at(12, 45)), person=people[3], taken_at=at(8, 40))
    SampleFactory(tube=tube(gate, at(9, 55), at(11, 55)), person=people[4], taken_at=at(9, 50))
    TubeFactory(round=round, site=gate, status=Tube.Status.CLOSED, opened_at=at(10, 0), closed_at=at(10, 5))
    TubeFactory(round=round, site=gate, opened_at=at(10, 10))
    return round


def test_figures_of_a_small_round(round_with_tubes):
    figures = queries.round_figures(round_with_tubes)

    assert [timezone.localtime(hour).hour for hour in figures.hours] == [8, 9]
    assert [(row.site.name, row.counts, row.total) for row in figures.sites] == [
        ("东门", [1, 1], 2), ("广场", [2, 1], 3)]
    assert figures.samples == 5
    assert figures.tubes == {"open": 1, "closed": 1, "resulted": 3}
    assert (figures.median_minutes, figures.p90_minutes) == (240, 360)
    assert (figures.positive_tubes, figures.positive_people) == (1, 3)


def test_a_round_without_results_has_no_turnaround(community_a):
    figures = queries.round_figures(TestRoundFactory(community=community_a))

    assert figures.turnaround_median is None and figures.samples == 0 and figures.tubes["open"] == 0


def test_the_figures_page_and_api(round_with_tubes, staff_a, staff_b):
    page = signed_in(staff_a).get(f"/testing/rounds/{round_with_tubes.pk}/figures/")
    assert page.status_code == 200
    assert '<span class="num" data-testid="turnaround">240</span>' in page.content.decode()

    body = signed_in(staff_a).get(f"/api/v1/test-rounds/{round_with_tubes.pk}/figures").json()
    assert body["tubes"] == {"open": 1, "closed": 1, "resulted": 3}
    assert (body["turnaround_median_minutes"], body["turnaround_p90_minutes"]) == (240, 360)
    assert [(site["site_name"], site["counts"]) for site in body["sites"]] == [("东门", [1, 1]), ("广场", [2, 1])]
    assert (body["positive_tubes"], body["positive_people"]) == (1, 3)

    assert signed_in(staff_b).get(f"/api/v1/test-rounds/{round_with_tubes.pk}/figures").status_code == 404
    assert signed_in(staff_b).get(f"/testing/rounds/{round_with_tubes.pk}/figures/").status_code == 404
