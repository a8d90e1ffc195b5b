"""The demo's follow-up work, written through the same services the console uses.

Dates are relative to the day the demo is loaded, so the board always shows a live situation:
湖北 declared a risk area, people who came back in the last days in every colour, two of them in
home quarantine with their 五个一 team and this morning's temperatures (one of them 37.6 ℃), a
verification list due in four hours, and the first screening round of 驰誉小区 under way.
"""

import datetime

from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.demo.constants import (
    ANGUO_ARRIVALS,
    HUBEI,
    LIST_ANSWERS,
    LIST_FILE_NAME,
    LIST_FOUND,
    LIST_HOURS,
    LIST_ISSUED_BY,
    LIST_TITLE,
    LIST_UNKNOWN,
    MORNING_CHECKS,
    OBSERVATION_TEAM,
    OTHER_ORIGINS,
    RETURNED_NOTE,
    ROUND_NOT_REACHED,
    ROUND_VISITS,
    SHANGHAI_PUDONG,
    WUHAN_WUCHANG,
    XIANGYANG,
)
from fangkong.health import services as health
from fangkong.health.models import ObservationKind, ObservationReason
from fangkong.people.models import Person
from fangkong.places.models import Household
from fangkong.screening import services as screening
from fangkong.screening.models import ContactOutcome, VisitMethod


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def load_following(admin, street, chunyu, anguo) -> None:
    _risk_areas(admin, street)
    chunyu_arrivals = _arrivals(admin, chunyu, Person.objects.filter(community=chunyu, notes=RETURNED_NOTE)
                                .order_by("id"))
    anguo_arrivals = _arrivals(admin, anguo, Person.objects.filter(community=anguo).exclude(phone="")
                               .order_by("id")[:ANGUO_ARRIVALS])
    _follow_up(admin, chunyu_arrivals)
    _follow_up(admin, anguo_arrivals)
    _observations(admin, chunyu_arrivals[:len(MORNING_CHECKS)])
    _verification_list(admin, chunyu)
    _screening_round(admin, chunyu)


def _risk_areas(admin, street) -> None:
    screening.risk_area_create(actor=admin, street=street, division_code=HUBEI, level="high",
                               valid_from=_days_ago(30), note="省级通报")
    screening.risk_area_create(actor=admin, street=street, division_code=SHANGHAI_PUDONG, level="medium",
                               valid_from=_days_ago(40), valid_to=_days_ago(20))


def _arrivals(admin, community, persons) -> list:
    """Arrivals for the given persons: every fourth from 湖北 (exposed), the others from elsewhere."""
    arrivals = []
    for index, person in enumerate(persons):
        hubei = WUHAN_WUCHANG if index % 8 == 0 else XIANGYANG
        origin = hubei if index % 4 == 0 else OTHER_ORIGINS[index % len(OTHER_ORIGINS)]
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
    team = {role: User.objects.get(username=username) for role, username in OBSERVATION_TEAM.items()}
    morning = timezone.localtime().replace(hour=8, minute=30, second=0, microsecond=0)
    for arrival, (temperature, symptoms) in zip(arrivals, MORNING_CHECKS, strict=True):
        person = arrival.person
        screening.follow_up_set_facts(actor=admin, person=person, reason="核实行程", reached=True, verified=True)
        observation = health.observation_start(
            actor=admin, person=person, kind=ObservationKind.HOME_QUARANTINE, reason=ObservationReason.ARRIVAL,
            starts_on=arrival.arrived_on, arrival=arrival, team={**team, "family_contact_name": "家属"})
        health.health_check_record(actor=team["medic"], observation=observation, temperature=temperature,
                                   reporter="staff_door", taken_at=min(morning, timezone.localtime()),
                                   symptoms=list(symptoms))


def _verification_list(admin, community) -> None:
    """A list sent down at night: 10 rows, eight of them living here, two unknown; three answered."""
    persons = list(Person.objects.filter(community=community).exclude(phone="").order_by("-id")[:LIST_FOUND])
    lines = ["序号,姓名,身份证号,手机号,来源地,核查原因"]
    for n, person in enumerate(persons, start=1):
        lines.append(f"{n},{person.name},{person.id_number},{person.phone},湖北省武汉市,途经风险地区")
    for n, (name, phone, origin) in enumerate(LIST_UNKNOWN, start=len(persons) + 1):
        lines.append(f"{n},{name},,{phone},{origin},手机信令")
    batch = screening.verification_batch_import(
        actor=admin, file_name=LIST_FILE_NAME, data="\n".join(lines).encode("utf-8-sig"),
        title=LIST_TITLE, hours=LIST_HOURS, issued_by=LIST_ISSUED_BY, community=community)
    for item, answer in zip(batch.items.order_by("line")[:len(LIST_ANSWERS)], LIST_ANSWERS, strict=True):
        screening.verification_item_answer(actor=admin, item=item, answer=answer, note="电话核实")


def _screening_round(admin, community) -> None:
    """Round 1 of 驰誉小区: building 1 visited, two households not reached yet."""
    round_ = screening.screening_round_start(actor=admin, community=community)
    households = Household.objects.filter(community=community, building__number="1").order_by("unit__number", "room")
    for index, household in enumerate(households[:ROUND_VISITS]):
        reached = VisitMethod.DOOR if index % 2 else VisitMethod.PHONE
        method = VisitMethod.NOT_REACHED if index in ROUND_NOT_REACHED else reached
        screening.household_visit_record(actor=admin, round=round_, household=household, method=method,
                                         people_present=None if method == VisitMethod.NOT_REACHED else 2,
                                         anomalies=["fever"] if index == 7 else [])
