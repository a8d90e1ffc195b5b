"""The access cast: a gate of 驰誉小区 in community A, and scanning helpers."""

import threading
import uuid

import pytest
from django.db import connection

from fangkong.access import services
from fangkong.people.codes import personal_code
from tests.access.factories import CheckpointFactory


@pytest.fixture
def gate_a(compound_a):
    return CheckpointFactory(community=compound_a.community, compound=compound_a, name="驰誉小区东门")


@pytest.fixture
def scan(volunteer):
    """Scan a person's personal code (or any text) at a gate: scan(gate, person_or_text, "out", **more)."""
    def _scan(gate, who, direction="out", *, actor=None, **more):
        code = who if isinstance(who, str) else personal_code(who)
        return services.passage_register(actor=actor or volunteer, checkpoint=gate, client_id=uuid.uuid4(),
                                         direction=direction, code=code, **more)

    return _scan


@pytest.fixture
def at_once():
    """Run calls in threads released together, each on its own database connection (needs
    django_db(transaction=True)); each outcome is what the call returned, or the exception it raised."""
    def _run(calls):
        outcomes, barrier = [], threading.Barrier(len(calls))

        def run(call):
            try:
                barrier.wait(timeout=5)
                outcomes.append(call())
            except Exception as err:  # noqa: BLE001 (a refusal by the database is an outcome too)
                outcomes.append(err)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    return _run
