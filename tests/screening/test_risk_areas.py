"""Risk areas: who keeps them, which arrivals they expose, and how a change moves colours."""

import datetime
import io

import pytest
from django.utils import timezone

from fangkong.core.errors import DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.screening import queries, services
from fangkong.screening.models import Color, FollowUp, RiskArea
from tests.screening.factories import ArrivalFactory, RiskAreaFactory

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def wuchang(street):
    """武汉市武昌区 (420106), high risk from ten days ago until further notice."""
    return RiskAreaFactory(street=street, division_code="420106", valid_from=TODAY - 10 * DAY)


@pytest.mark.parametrize("area_code, origin, exposed", [
    ("420000", "420106", True),   # the province covers its counties
    ("420100", "420106", True),   # the prefecture covers its districts
    ("420106", "420106", True),   # the county itself
    ("420100", "420500", False),  # another prefecture of the same province
    ("420106", "420102", False),  # a neighbouring district
])
def test_exposure_follows_division_coverage(street, area_code, origin, exposed):
    # Given a risk area in force
    RiskAreaFactory(street=street, division_code=area_code, valid_from=TODAY - 10 * DAY)
    # Then an arrival from the origin yesterday is exposed exactly when the area covers it
    assert services.arrival_is_exposed(street, origin, TODAY - DAY) is exposed


@pytest.mark.parametrize("day, exposed", [(-11, False), (-10, True), (-5, True), (-3, True), (-2, False)])
def test_exposure_counts_only_inside_the_window(street, day, exposed):
    # Given a risk area valid from ten days ago to three days ago
    RiskAreaFactory(street=street, division_code="420106", valid_from=TODAY - 10 * DAY, valid_to=TODAY - 3 * DAY)
    assert services.arrival_is_exposed(street, "420106", TODAY + day * DAY) is exposed


def test_open_ended_area_exposes_todays_arrivals(street, wuchang):
    assert services.arrival_is_exposed(street, "420106", TODAY)


def test_another_streets_area_does_not_expose(street, wuchang):
    from tests.places.factories import StreetFactory

    assert not services.arrival_is_exposed(StreetFactory(name="雪枫街道"), "420106", TODAY)


def test_street_admin_creates_an_area_with_its_full_name(street_admin, street):
    area = services.risk_area_create(actor=street_admin, street=street, division_code="420106", level="high",
                                     valid_from=TODAY)
    assert area.division_name == "湖北省武汉市武昌区"
    assert AuditEvent.objects.filter(object_type="riskarea", action="create", actor=street_admin).exists()


@pytest.mark.parametrize("who", ["staff_a", "grid_member_a", "medic"])
def test_community_staff_read_but_do_not_write(request, street, wuchang, who):
    actor = request.getfixturevalue(who)
    assert list(queries.risk_areas_for(actor)) == [wuchang]
    with pytest.raises(NotAllowed):
        services.risk_area_create(actor=actor, street=street, division_code="420106", level="high", valid_from=TODAY)


def test_unknown_division_code_names_the_field(street_admin, street):
    with pytest.raises(DomainError) as err:
        services.risk_area_create(actor=street_admin, street=street, division_code="999999", level="high",
                                  valid_from=TODAY)
    assert err.value.message == "行政区划代码 999999 不存在"
    assert "division_code" in err.value.fields


def test_window_ending_before_it_starts_is_refused(street_admin, street):
    with pytest.raises(DomainError) as err:
        services.risk_area_create(actor=street_admin, street=street, division_code="420106", level="high",
                                  valid_from=TODAY, valid_to=TODAY - DAY)
    assert "valid_to" in err.value.fields
    assert not RiskArea.objects.exists()


def test_new_area_exposes_earlier_arrivals_and_turns_them_red(street_admin, street, admin, person_a):
    # Given 张三 arrived from 武昌 yesterday when it was no risk area, followed and green
    arrival = ArrivalFactory(person=person_a, origin_code="420106", origin_name="湖北省武汉市武昌区")
    follow_up = services.follow_up_set_facts(actor=admin, person=person_a, reason="外地返回", reached=True,
                                             verified=True)
    assert follow_up.risk_color == Color.GREEN
    # When the street declares 武汉市 a risk area from a week ago
    services.risk_area_create(actor=street_admin, street=street, division_code="420100", level="high",
                              valid_from=TODAY - 7 * DAY)
    # Then the arrival is exposed and his colour has moved to yellow (reached, exposed, not yet observed)
    arrival.refresh_from_db()
    assert arrival.exposed
    follow_up = FollowUp.objects.get(person=person_a)
    assert follow_up.exposed and follow_up.risk_color == Color.YELLOW
    assert follow_up.color_changes.first().reason.startswith("新增风险地区")


def test_ending_an_area_before_an_arrival_clears_its_exposure(street_admin, street, wuchang, admin, person_a):
    # Given an exposed arrival yesterday, followed and not yet reached: red
    arrival = ArrivalFactory(person=person_a, origin_code="420106", exposed=True)
    follow_up = services.follow_up_open(actor=admin, person=person_a, reason="外地返回")
    assert follow_up.risk_color == Color.RED
    # When the area is lifted from two days ago
    services.risk_area_end(actor=street_admin, risk_area=wuchang, valid_to=TODAY - 2 * DAY)
    # Then the arrival no longer counts as exposed and the colour follows
    arrival.refresh_from_db()
    assert not arrival.exposed
    assert FollowUp.objects.get(person=person_a).risk_color == Color.YELLOW


def test_moving_an_area_recomputes_old_and_new_division(street_admin, street, wuchang, person_a, person_b):
    from_wuchang = ArrivalFactory(person=person_a, origin_code="420106", exposed=True)
    from_chengdu = ArrivalFactory(person=person_b, origin_code="510107")
    services.risk_area_update(actor=street_admin, risk_area=wuchang, division_code="510100", level="medium",
                              valid_from=wuchang.valid_from)
    from_wuchang.refresh_from_db()
    from_chengdu.refresh_from_db()
    assert (from_wuchang.exposed, from_chengdu.exposed) == (False, True)


def _csv(text: str, name="风险地区.csv"):
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = name
    return upload


def test_import_lands_every_row(street_admin, street):
    upload = _csv("风险地区清单\n行政区划代码,地区,风险等级,起始日期,截止日期\n"
                  "420106,武昌区,高,2022-04-01,\n310115,浦东新区,中风险,2022/4/2,2022-04-20\n")
    areas = services.risk_areas_import(actor=street_admin, street=street, file=upload)
    assert [(a.division_code, a.level, a.valid_to) for a in areas] == [
        ("420106", "high", None), ("310115", "medium", datetime.date(2022, 4, 20))]


def test_import_with_a_bad_row_lands_nothing_and_names_each_problem(street_admin, street):
    upload = _csv("地区代码,风险等级,起始日期,截止日期\n420106,高,2022-04-01,\n999999,极高,2022-04-05,2022-04-01\n")
    with pytest.raises(DomainError) as err:
        services.risk_areas_import(actor=street_admin, street=street, file=upload)
    problems = err.value.fields["file"].split("\n")
    assert "第 3 行:行政区划代码:行政区划代码 999999 不存在" in problems
    assert "第 3 行:风险等级:应为 高、中 或 低" in problems
    assert "第 3 行:截止日期:截止日期不能早于起始日期" in problems
    assert not RiskArea.objects.exists()


def test_import_reads_xlsx(street_admin, street, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["地区代码", "风险等级", "起始日期"])
    book.active.append(["420100", "低", datetime.date(2022, 4, 1)])
    path = tmp_path / "areas.xlsx"
    book.save(path)
    with open(path, "rb") as upload:
        areas = services.risk_areas_import(actor=street_admin, street=street, file=upload)
    assert [(a.division_name, a.level, a.valid_from) for a in areas] == [
        ("湖北省武汉市", "low", datetime.date(2022, 4, 1))]


def test_import_without_code_column_is_refused(street_admin, street):
    with pytest.raises(DomainError) as err:
        services.risk_areas_import(actor=street_admin, street=street, file=_csv("地区,风险等级\n武昌,高\n"))
    assert err.value.code == "no_header"
