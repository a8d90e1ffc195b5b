"""The decision at the gate, rule by rule: one row per situation a guard meets."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.access.models import Reason, Result
from fangkong.access.rules import Decision, GateRules, PassFacts, ScanFacts, decide, quota_period
from fangkong.zones.models import Movement

NOW = timezone.make_aware(datetime.datetime(2022, 3, 10, 9, 30))
DAY = datetime.timedelta(days=1)


def pass_(pk=1, kind="shopping", revoked=False, quota=None, used=0, valid_from=NOW - DAY, valid_until=NOW + 9 * DAY):
    exits, days = quota if quota else (None, None)
    return PassFacts(pk=pk, kind=kind, valid_from=valid_from, valid_until=valid_until, revoked=revoked,
                     quota_exits=exits, quota_days=days, used=used)


CLOSED_COMPOUND = GateRules(pass_required=True)
ROWS = [
    # (situation, facts, result, reason)
    ("a free resident goes out", {}, Result.ALLOWED, Reason.NONE),
    ("a free resident comes in", {"direction": "in"}, Result.ALLOWED, Reason.NONE),
    ("an inactive gate", {"gate": GateRules(active=False)}, Result.REFUSED, Reason.CHECKPOINT_INACTIVE),
    ("going out by an entrance-only gate", {"gate": GateRules(direction="in")}, Result.REFUSED, Reason.WRONG_DIRECTION),
    ("coming in by an entrance-only gate", {"gate": GateRules(direction="in"), "direction": "in"},
     Result.ALLOWED, Reason.NONE),
    ("before the gate opens", {"gate": GateRules(opens_at=datetime.time(10), closes_at=datetime.time(18))},
     Result.REFUSED, Reason.CLOSED_HOURS),
    ("a night gate open across midnight", {"gate": GateRules(opens_at=datetime.time(20), closes_at=datetime.time(10))},
     Result.ALLOWED, Reason.NONE),
    ("a forged code", {"code_problem": Reason.CODE_FORGED}, Result.REFUSED, Reason.CODE_FORGED),
    ("an expired printed code", {"code_problem": Reason.CODE_EXPIRED}, Result.REFUSED, Reason.CODE_EXPIRED),
    ("a code of another community", {"code_problem": Reason.CODE_ELSEWHERE}, Result.REFUSED, Reason.CODE_ELSEWHERE),
    ("a forged code at an inactive gate: the gate first", {"gate": GateRules(active=False),
     "code_problem": Reason.CODE_FORGED}, Result.REFUSED, Reason.CHECKPOINT_INACTIVE),
    ("37.3 ℃ going out", {"temperature": Decimal("37.3")}, Result.REFUSED, Reason.FEVER),
    ("37.2 ℃ going out", {"temperature": Decimal("37.2")}, Result.ALLOWED, Reason.NONE),
    ("38 ℃ coming home", {"temperature": Decimal("38.0"), "direction": "in"}, Result.REFUSED, Reason.FEVER),
    ("a visitor coming in", {"visitor": True, "direction": "in"}, Result.ALLOWED, Reason.VISITOR),
    ("a visitor with fever", {"visitor": True, "direction": "in", "temperature": Decimal("37.5")},
     Result.PERSUADED_BACK, Reason.FEVER),
    ("a visitor at a gate admitting none",
     {"visitor": True, "direction": "in", "gate": GateRules(visitors_admitted=False)},
     Result.PERSUADED_BACK, Reason.VISITORS_NOT_ADMITTED),
    ("a visitor leaving a gate admitting none", {"visitor": True, "gate": GateRules(visitors_admitted=False)},
     Result.ALLOWED, Reason.VISITOR),
    ("sealed, going out", {"movement": Movement.SEALED}, Result.REFUSED, Reason.ZONE_SEALED),
    ("sealed, coming home", {"movement": Movement.SEALED, "direction": "in"}, Result.ALLOWED, Reason.NONE),
    ("sealed, with a medical exception of today", {"movement": Movement.SEALED, "medical_exception": True},
     Result.ALLOWED, Reason.MEDICAL),
    ("sealed, with a medical pass", {"movement": Movement.SEALED, "passes": (pass_(kind="medical"),)},
     Result.ALLOWED, Reason.MEDICAL),
    ("sealed, with a shopping pass", {"movement": Movement.SEALED, "passes": (pass_(),), "pass_shown": True},
     Result.REFUSED, Reason.ZONE_SEALED),
    ("sealed, a revoked medical pass", {"movement": Movement.SEALED, "passes": (pass_(kind="medical", revoked=True),)},
     Result.REFUSED, Reason.ZONE_SEALED),
    ("controlled, going out", {"movement": Movement.CONTROLLED}, Result.REFUSED, Reason.ZONE_CONTROLLED),
    ("controlled, with a medical exception", {"movement": Movement.CONTROLLED, "medical_exception": True},
     Result.ALLOWED, Reason.MEDICAL),
    ("precaution, going out", {"movement": Movement.PRECAUTION}, Result.ALLOWED, Reason.NONE),
    ("a closed compound, no pass", {"gate": CLOSED_COMPOUND}, Result.PERSUADED_BACK, Reason.PASS_REQUIRED),
    ("a closed compound, a pass without quota", {"gate": CLOSED_COMPOUND, "passes": (pass_(kind="work"),)},
     Result.ALLOWED, Reason.PASS),
    ("a closed compound, the last exit of the period", {"gate": CLOSED_COMPOUND, "passes": (pass_(quota=(1, 3)),)},
     Result.ALLOWED, Reason.PASS),
    ("a closed compound, quota used", {"gate": CLOSED_COMPOUND, "passes": (pass_(quota=(1, 3), used=1),)},
     Result.PERSUADED_BACK, Reason.QUOTA_USED),
    ("a closed compound, an expired pass", {"gate": CLOSED_COMPOUND,
     "passes": (pass_(valid_from=NOW - 9 * DAY, valid_until=NOW - DAY),)}, Result.PERSUADED_BACK, Reason.PASS_REQUIRED),
    ("a closed compound, coming home without a pass", {"gate": CLOSED_COMPOUND, "direction": "in"},
     Result.ALLOWED, Reason.NONE),
    ("a revoked pass shown", {"passes": (pass_(revoked=True),), "pass_shown": True},
     Result.REFUSED, Reason.PASS_REVOKED),
    ("a revoked pass shown coming in", {"passes": (pass_(revoked=True),), "pass_shown": True, "direction": "in"},
     Result.REFUSED, Reason.PASS_REVOKED),
    ("a pass shown before it is valid", {"passes": (pass_(valid_from=NOW + DAY),), "pass_shown": True},
     Result.REFUSED, Reason.PASS_NOT_VALID),
    ("a pass shown at an open gate still counts its quota", {"passes": (pass_(quota=(2, 7), used=2),),
     "pass_shown": True}, Result.PERSUADED_BACK, Reason.QUOTA_USED),
    ("a recent negative test asked and there", {"gate": GateRules(test_within_hours=48), "tested_negative": True},
     Result.ALLOWED, Reason.NONE),
    ("a recent negative test asked and missing", {"gate": GateRules(test_within_hours=48), "tested_negative": False},
     Result.REFUSED, Reason.TEST_MISSING),
    ("sealed, medical exception, no test: care first", {"gate": GateRules(test_within_hours=48),
     "tested_negative": False, "movement": Movement.SEALED, "medical_exception": True}, Result.ALLOWED, Reason.MEDICAL),
]


@pytest.mark.parametrize(("situation", "given", "result", "reason"), ROWS, ids=[row[0] for row in ROWS])
def test_the_gate_decides(situation, given, result, reason):
    facts = ScanFacts(**{"gate": GateRules(), "direction": "out", "at": NOW, **given})

    decision = decide(facts)

    assert (decision.result, decision.reason) == (result, reason)


def test_an_exit_through_a_quota_says_which_of_how_many_it_is():
    facts = ScanFacts(gate=CLOSED_COMPOUND, direction="out", at=NOW, passes=(pass_(pk=7, quota=(2, 3), used=1),))

    decision = decide(facts)

    assert (decision.pass_id, decision.quota_used, decision.quota_total) == (7, 2, 2)
    assert decision.message("out") == "放行 · 出 · 本期第 2 次,共 2 次"
    assert decision.counts_exit


def test_of_two_passes_the_exit_goes_through_the_one_without_a_quota_then_the_one_with_most_left():
    facts = ScanFacts(gate=CLOSED_COMPOUND, direction="out", at=NOW,
                      passes=(pass_(pk=1, quota=(1, 3), used=1), pass_(pk=2, quota=(3, 3), used=1)))
    assert decide(facts).pass_id == 2

    facts = ScanFacts(gate=CLOSED_COMPOUND, direction="out", at=NOW,
                      passes=(pass_(pk=1, quota=(3, 3)), pass_(pk=2, kind="work")))
    assert decide(facts).pass_id == 2


def test_a_refusal_names_its_reason_for_the_guard():
    assert Decision(Result.REFUSED, Reason.ZONE_SEALED).message("out") == "不予通行 · 出 · 封控区足不出户"


def test_quota_periods_are_counted_in_local_days_from_the_passs_first_day():
    valid_from = timezone.make_aware(datetime.datetime(2022, 3, 1, 15, 0))

    begins, ends = quota_period(valid_from, 3, timezone.make_aware(datetime.datetime(2022, 3, 7, 23, 59)))

    assert (timezone.localtime(begins), timezone.localtime(ends)) == (
        timezone.make_aware(datetime.datetime(2022, 3, 7)), timezone.make_aware(datetime.datetime(2022, 3, 10)))
