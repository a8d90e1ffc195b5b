"""The demo's follow-up work, written through the same services the console uses.

Dates are relative to the day the demo is loaded, so the board always shows a live situation:
湖北 declared a risk area, people who came back in the last days in every colour, two of them in
home quarantine with their 五个一 team and this morning's temperatures (one of them 37.6 ℃), a
verification list due in four hours, and the first screening round of 驰誉小区 under way.
"""

import datetime

from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.demo import RETURNED_NOTE
from fangkong.health import services as health
from fangkong.health.models import ObservationKind, ObservationReason
from fangkong.people.models import Person
from fangkong.places.models import Household
from fangkong.screening import services as screening
from fangkong.screening.models import ContactOutcome, VisitMethod

WUHAN_WUCHANG, XIANGYANG, SHANGHAI_PUDONG = "420106", "420600", "310115"
OTHER_ORIGINS = ["410100", "411300", "150100", "110105", "510107", "440305"]


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def load_following(admin, street, chunyu: dict, anguo: dict) -> None:
    _risk_areas(admin, street)
    chunyu_arrivals = _arrivals(admin, chunyu["community"], Person.objects.filter(
        community=chunyu["community"], notes=RETURNED_NOTE).order_by("id"))
    anguo_arrivals = _arrivals(admin, anguo["community"], Person.objects.filter(
        community=anguo["community"]).exclude(phone="").order_by("id")[:24])
    _follow_up(admin, chunyu_arrivals)
    _follow_up(admin, anguo_arrivals)
    _observations(admin, chunyu_arrivals[:2])
    _verification_list(admin, chunyu["community"])
    _screening_round(admin, chunyu["community"])


def _risk_areas(admin, street) -> None:
    screening.risk_area_create(actor=admin, street=street, division_code="420000", level="high",
                               valid_from=_days_ago(30), note="省级通报")
    screening.risk_area_create(actor=admin, street=street, division_code=SHANGHAI_PUDONG, level="medium",
                               valid_from=_days_ago(40), valid_to=_days_ago(20))


def _arrivals(admin, community, persons) -> list:
    """Arrivals for the given persons: every fourth from 湖北 (exposed), the others from elsewhere."""
    arrivals = []
    for index, person in enumerate(persons):
        origin = (WUHAN_WUCHANG if index % 8 == 0 else XIANGYANG) if index % 4 == 0 else OTHER_ORIGINS[index % 6]
        arrivals.append(screening.arrival_record(
            actor=admin, community=community, person=person, household=person.household, origin_code=origin,
            arrived_on=_days_ago(1 + index % 9), travel_mode=["train", "car", "flight", "bus"][index % 4],
            travel_number=["G2805", "", "CA1234", ""][index % 4], plate=["", "蒙A·12345", "", ""][index % 4],
            notice_acknowledged=index % 3 != 2, commitment_signed=index % 3 != 2))
    return arrivals


def _follow_up(admin, arrivals) -> None:
    """Calls made so far: most arrivals reached and verified; some exposed ones not yet reached."""
    for index, arrival in enumerate(arrivals):
        follow_up = arrival.person.follow_up
        if index % 8 == 4:
            continue
        outcome = ContactOutcome.UNREACHABLE if index % 8 == 0 and index else ContactOutcome.PHONE
        screening.follow_up_record_contact(actor=admin, follow_up=follow_up, outcome=outcome,
                                           verified=index % 5 != 3 and outcome != ContactOutcome.UNREACHABLE,
                                           note="电话回访")


def _observations(admin, arrivals) -> None:
    team = {"cadre": User.objects.get(username="wangge1"), "medic": User.objects.get(username="yihu"),
            "police": User.objects.get(username="minjing"), "volunteer": User.objects.get(username="zhiyuan")}
    morning = timezone.localtime().replace(hour=8, minute=30, second=0, microsecond=0)
    for arrival, temperature in zip(arrivals, ("36.5", "37.6")):
        person = arrival.person
        screening.follow_up_set_facts(actor=admin, person=person, reason="核实行程", reached=True, verified=True)
        observation = health.observation_start(
            actor=admin, person=person, kind=ObservationKind.HOME_QUARANTINE, reason=ObservationReason.ARRIVAL,
            starts_on=arrival.arrived_on, arrival=arrival, team={**team, "family_contact_name": "家属"})
        health.health_check_record(actor=team["medic"], observation=observation, temperature=temperature,
                                   reporter="staff_door", taken_at=min(morning, timezone.localtime()),
                                   symptoms=["cough"] if temperature != "36.5" else [])


def _verification_list(admin, community) -> None:
    """A list sent down at night: 10 rows, eight of them living here, two unknown; three answered."""
    persons = list(Person.objects.filter(community=community).exclude(phone="").order_by("-id")[:8])
    lines = ["序号,姓名,身份证号,手机号,来源地,核查原因"]
    for n, person in enumerate(persons, start=1):
        lines.append(f"{n},{person.name},{person.id_number},{person.phone},湖北省武汉市,途经风险地区")
    lines += ["9,赵无名,,13700000009,湖北省襄阳市,手机信令", "10,钱不详,,13700000010,上海市浦东新区,手机信令"]
    batch = screening.verification_batch_import(
        actor=admin, file_name="大数据核查名单.csv", data="\n".join(lines).encode("utf-8-sig"),
        title="大数据核查名单(第1批)", hours=4, issued_by="区疫情防控指挥部", community=community)
    for item, answer in zip(batch.items.order_by("line")[:3], ("present_verified", "left", "controlled")):
        screening.verification_item_answer(actor=admin, item=item, answer=answer, note="电话核实")


def _screening_round(admin, community) -> None:
    """Round 1 of 驰誉小区: building 1 visited, two households not reached yet."""
    round_ = screening.screening_round_start(actor=admin, community=community)
    households = Household.objects.filter(community=community, building__number="1").order_by("unit__number", "room")
    for index, household in enumerate(households[:20]):
        method = VisitMethod.NOT_REACHED if index in (5, 13) else (VisitMethod.DOOR if index % 2 else VisitMethod.PHONE)
        screening.household_visit_record(actor=admin, round=round_, household=household, method=method,
                                         people_present=None if method == VisitMethod.NOT_REACHED else 2,
                                         anomalies=["fever"] if index == 7 else [])
