"""The day at the gates for the daily report: passages per gate per hour, refusals and persuasions by reason,
visitors and vehicles."""

import datetime

import pytest
from django.utils import timezone

from fangkong.access import queries
from tests.access.factories import CheckpointFactory, PassageFactory
from tests.clients import send, signed_in

pytestmark = pytest.mark.django_db

DAY = datetime.date(2022, 3, 10)


def at(hour, minute=0, day=DAY):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def day_at_the_gates(gate_a, compound_a, person_a, community_b):
    north = CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区北门")
    for gate, moment, more in [
        (gate_a, at(7, 5), {"person": person_a}),
        (gate_a, at(7, 40), {"person": person_a, "plate": "蒙A12345"}),
        (gate_a, at(8, 10), {"person": person_a, "plate": "蒙A12345"}),
        (gate_a, at(8, 15), {"person": person_a, "result": "refused", "reason": "zone_sealed"}),
        (gate_a, at(8, 20), {"person": person_a, "result": "persuaded_back", "reason": "quota_used"}),
        (north, at(8, 30), {"visitor_name": "赵访客", "result": "persuaded_back", "reason": "visitors_not_admitted"}),
        (north, at(9, 0), {"visitor_name": "钱访客", "plate": "京B88888", "offline": True, "conflict": True}),
        (gate_a, at(0, 10, DAY + datetime.timedelta(days=1)), {"person": person_a}),  # the next day
        (CheckpointFactory(community=community_b), at(8, 0), {}),                      # another community
    ]:
        PassageFactory(checkpoint=gate, occurred_at=moment, **more)
    return north


def test_the_days_figures_count_each_gate_by_hour_and_each_refusal_by_reason(staff_a, day_at_the_gates):
    figures = queries.passage_figures(staff_a, DAY)

    assert [timezone.localtime(hour).hour for hour in figures.hours] == [7, 8, 9]
    assert [(row.checkpoint.name, row.counts) for row in figures.gates] == [
        ("驰誉小区东门", [2, 3, 0]), ("驰誉小区北门", [0, 1, 1])]
    assert figures.results == {"allowed": 4, "refused": 1, "persuaded_back": 2} and figures.total == 7
    assert sorted(figures.reasons) == [("persuaded_back", "quota_used", 1),
                                       ("persuaded_back", "visitors_not_admitted", 1), ("refused", "zone_sealed", 1)]
    assert (figures.visitors, figures.vehicles, figures.plates) == (2, 3, 2)
    assert (figures.offline, figures.conflicts) == (1, 1)


def test_one_gates_figures_through_the_api(staff_a, day_at_the_gates):
    body = send(signed_in(staff_a), "get",
                f"/passages/figures?day=2022-03-10&checkpoint_id={day_at_the_gates.pk}").json()

    assert body["total"] == 2 and body["visitors"] == 2
    assert body["reasons"] == [{"result": "persuaded_back", "reason": "visitors_not_admitted", "label": "暂停访客进入",
                                "count": 1}]


def test_another_communitys_staff_count_only_their_own_gates(staff_b, day_at_the_gates):
    assert queries.passage_figures(staff_b, DAY).results == {"allowed": 1, "refused": 0, "persuaded_back": 0}
    assert send(signed_in(staff_b), "get", f"/passages/figures?checkpoint_id={day_at_the_gates.pk}").status_code == 404
