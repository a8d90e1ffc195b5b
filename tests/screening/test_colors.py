"""The four colours as the seed's community defined them, over every combination of facts."""

import itertools

import pytest

from fangkong.screening.colors import ColorFacts, risk_color
from fangkong.screening.models import Color

FACT_NAMES = ("reached", "cooperating", "verified", "exposed", "under_observation", "left_community")
ALL_FACTS = [ColorFacts(**dict(zip(FACT_NAMES, values, strict=True)))
             for values in itertools.product([False, True], repeat=6)]


@pytest.mark.parametrize(("facts", "expected"), [
    # 返家未及时报到、电话无法打通: exposed and never reached
    (ColorFacts(exposed=True), Color.RED),
    # 不配合管控: reached but refusing
    (ColorFacts(exposed=True, reached=True, cooperating=False), Color.RED),
    # 电话追踪到位、正在核对信息
    (ColorFacts(exposed=True, reached=True), Color.YELLOW),
    # verified but home quarantine not started yet: still someone's job to verify the arrangement
    (ColorFacts(exposed=True, reached=True, verified=True), Color.YELLOW),
    # 通过社区复核、已实施居家隔离
    (ColorFacts(exposed=True, reached=True, verified=True, under_observation=True), Color.BLUE),
    # 明确去往外地
    (ColorFacts(exposed=True, reached=True, verified=True, left_community=True), Color.BLUE),
    # left, confirmed, no longer answering the phone: still blue
    (ColorFacts(exposed=True, verified=True, left_community=True), Color.BLUE),
    # 其它地区返回且未曾接触: green once the origin is verified
    (ColorFacts(reached=True, verified=True), Color.GREEN),
    # not from a risk area, facts not yet checked
    (ColorFacts(reached=True), Color.YELLOW),
    (ColorFacts(), Color.YELLOW),
    # under observation (a close contact) and refusing: red
    (ColorFacts(reached=True, verified=True, under_observation=True, cooperating=False), Color.RED),
])
def test_colour_of_the_seed_cases(facts, expected):
    assert risk_color(facts) == expected


@pytest.mark.parametrize("facts", ALL_FACTS)
def test_every_combination_follows_the_rules(facts):
    color = risk_color(facts)
    if color == Color.RED:
        assert facts.exposed or facts.under_observation, "red is for risk-area arrivals and observed people"
        assert not facts.cooperating or not facts.reached
    if color == Color.BLUE:
        assert facts.verified and (facts.under_observation or facts.left_community)
        assert facts.cooperating or not (facts.exposed or facts.under_observation)
    if color == Color.GREEN:
        assert facts.verified and facts.cooperating and not facts.exposed
    if facts.exposed and facts.reached and facts.cooperating and not facts.verified:
        assert color == Color.YELLOW


def test_every_colour_is_reachable():
    assert {risk_color(f) for f in ALL_FACTS} == set(Color)

