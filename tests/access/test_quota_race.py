"""Two gates scan one household's last exit of the period at the same moment: exactly one lets them out.

The pass row is locked while the exits of the period are counted, so the second scan waits and then counts the
first one's exit. On SQLite the write lock serialises them; the test database (shared-cache, in memory) turns a
writer that would wait away instead, which leaves that scan unstored: still never a second exit.
"""

import uuid

import pytest
from django.db import connection

from fangkong.access import codes, services
from fangkong.access.models import Passage, Reason, Result
from fangkong.people.codes import personal_code
from tests.access.factories import CheckpointFactory, PassFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gates(compound_a):
    return [CheckpointFactory(community=compound_a.community, compound=compound_a, pass_required=True, name=name)
            for name in ("东门", "西门", "南门", "北门")]


def _scanner(actor, gate, code):
    return lambda: services.passage_register(actor=actor, checkpoint=gate, client_id=uuid.uuid4(), direction="out",
                                             code=code)


def test_four_members_at_four_gates_at_once_spend_the_last_exit_once(gates, household_a, volunteer, staff_a, at_once):
    PassFactory(household=household_a, quota_exits=1, quota_days=3)
    members = PersonFactory.create_batch(4, household=household_a)

    outcomes = at_once([_scanner(volunteer if n % 2 else staff_a, gate, personal_code(person))
                        for n, (gate, person) in enumerate(zip(gates, members, strict=True))])

    decisions = [(o.decision.result, o.decision.reason) for o in outcomes if isinstance(o, services.Registered)]
    assert decisions.count((Result.ALLOWED, Reason.PASS)) == 1
    assert Passage.objects.filter(result=Result.ALLOWED).count() == 1
    if connection.vendor == "postgresql":
        assert decisions.count((Result.PERSUADED_BACK, Reason.QUOTA_USED)) == 3 and Passage.objects.count() == 4


def test_one_household_card_at_two_gates_at_once_goes_out_once(gates, household_a, volunteer, at_once):
    card = PassFactory(household=household_a, quota_exits=2, quota_days=7)
    PassFactory(household=household_a, quota_exits=1, quota_days=7, kind="work")
    services.passage_register(actor=volunteer, checkpoint=gates[0], client_id=uuid.uuid4(), direction="out",
                              code=codes.pass_code(card))

    outcomes = at_once([_scanner(volunteer, gate, codes.pass_code(card)) for gate in gates[1:3]])

    results = sorted(o.decision.result for o in outcomes if isinstance(o, services.Registered))
    assert results.count(Result.ALLOWED) <= 1
    assert Passage.objects.filter(used_pass=card, result=Result.ALLOWED).count() == 1 + results.count(Result.ALLOWED)
    if connection.vendor == "postgresql":
        assert results == [Result.ALLOWED, Result.PERSUADED_BACK]


def test_the_same_scan_sent_twice_at_once_is_stored_once(gates, person_a, volunteer, at_once):
    client_id = uuid.uuid4()

    def scan():
        return services.passage_register(actor=volunteer, checkpoint=gates[0], client_id=client_id,
                                         direction="in", code=personal_code(person_a))

    outcomes = at_once([scan, scan])

    assert Passage.objects.count() == 1
    stored = {o.passage.pk for o in outcomes if isinstance(o, services.Registered)}
    assert stored == {Passage.objects.get().pk}
    if connection.vendor == "postgresql":
        assert all(isinstance(o, services.Registered) for o in outcomes)
