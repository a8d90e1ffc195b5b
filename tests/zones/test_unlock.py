"""The unlock rule as a property: the date follows the last positive, rounds count only after it."""

import datetime

from hypothesis import given
from hypothesis import strategies as st

from fangkong.zones.unlock import UnlockRule, unlock_status

START = datetime.date(2022, 11, 1)
DAY = datetime.timedelta(days=1)

days_after_start = st.integers(min_value=0, max_value=60).map(lambda n: START + n * DAY)
positives = st.lists(days_after_start, max_size=6)
rounds = st.lists(st.tuples(days_after_start, st.booleans()), max_size=8, unique_by=lambda r: r[0])
rules = st.builds(UnlockRule, st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=5))


def status(positives, rounds, rule):
    return unlock_status(started_on=START, positives=positives, rounds=rounds, rule=rule)


@given(positives, rounds, rules)
def test_unlock_date_is_the_last_positive_plus_the_policy_days(positives, rounds, rule):
    resets = positives + [on for on, negative in rounds if not negative]

    result = status(positives, rounds, rule)

    assert result.last_positive_on == max(resets, default=START)
    assert result.unlock_on == result.last_positive_on + rule.days_without_positive * DAY


@given(positives, rounds, rules, days_after_start)
def test_a_later_positive_never_moves_the_date_earlier_and_resets_the_rounds(positives, rounds, rule, new_positive):
    before = status(positives, rounds, rule)

    after = status(positives + [new_positive], rounds, rule)

    assert after.unlock_on >= before.unlock_on
    assert after.rounds_done <= before.rounds_done
    if all(on <= new_positive for on, _negative in rounds):
        assert after.rounds_done == 0


@given(positives, rounds, rules)
def test_rounds_on_or_before_the_last_positive_never_count(positives, rounds, rule):
    result = status(positives, rounds, rule)

    counted = [on for on, negative in rounds if negative and on > result.last_positive_on]
    assert result.rounds_done == len(counted)
    assert result.rounds_missing == max(rule.negative_rounds - len(counted), 0)


@given(positives, rounds, rules)
def test_a_failed_round_resets_like_a_positive(positives, rounds, rule):
    failed_on = START + 61 * DAY

    result = status(positives, rounds + [(failed_on, False)], rule)

    assert result.last_positive_on == failed_on
    assert result.rounds_done == 0
    assert not result.met(failed_on + (rule.days_without_positive - 1) * DAY)


@given(positives, rounds, rules, st.integers(min_value=1, max_value=30))
def test_a_policy_with_more_days_never_gives_an_earlier_date(positives, rounds, rule, extra):
    longer = UnlockRule(rule.days_without_positive + extra, rule.negative_rounds)

    assert status(positives, rounds, longer).unlock_on > status(positives, rounds, rule).unlock_on


@given(rules, st.lists(st.tuples(days_after_start, st.just(True)), max_size=5, unique_by=lambda r: r[0]))
def test_without_positives_the_countdown_runs_from_the_start(rule, negative_rounds):
    result = status([], negative_rounds, rule)

    assert result.last_positive_on == START
    assert result.unlock_on == START + rule.days_without_positive * DAY


def test_the_seed_compound_may_unlock_14_days_336_hours_after_its_last_positive():
    """Sealed with positives on 11-15, 11-18 and 11-21, two negative rounds after: unsealed on 12-05."""
    rule = UnlockRule(days_without_positive=14, negative_rounds=2)
    found = [datetime.date(2022, 11, 15), datetime.date(2022, 11, 18), datetime.date(2022, 11, 21)]
    tested = [(datetime.date(2022, 11, 20), True), (datetime.date(2022, 11, 25), True),
              (datetime.date(2022, 12, 1), True)]

    result = unlock_status(started_on=datetime.date(2022, 11, 15), positives=found, rounds=tested, rule=rule)

    assert result.unlock_on == datetime.date(2022, 12, 5)
    assert (result.unlock_on - result.last_positive_on) == datetime.timedelta(hours=336)
    assert result.rounds_done == 2
    assert not result.met(datetime.date(2022, 12, 4))
    assert result.days_left(datetime.date(2022, 12, 4)) == 1
    assert result.met(datetime.date(2022, 12, 5))


def test_a_new_positive_on_day_ten_restarts_the_fourteen_days():
    rule = UnlockRule(days_without_positive=14, negative_rounds=1)
    first = datetime.date(2022, 11, 1)
    tested = [(datetime.date(2022, 11, 5), True)]

    before = unlock_status(started_on=first, positives=[first], rounds=tested, rule=rule)
    after = unlock_status(started_on=first, positives=[first, datetime.date(2022, 11, 10)], rounds=tested, rule=rule)

    assert before.unlock_on == datetime.date(2022, 11, 15)
    assert before.rounds_missing == 0
    assert after.unlock_on == datetime.date(2022, 11, 24)
    assert after.rounds_missing == 1


def test_precaution_zone_with_no_rounds_needed_unlocks_on_the_date():
    result = unlock_status(started_on=START, positives=[], rounds=[], rule=UnlockRule(7, 0))

    assert result.met(START + 7 * DAY)
    assert not result.met(START + 6 * DAY)
