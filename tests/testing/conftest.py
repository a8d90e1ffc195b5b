"""The mass-testing cast: a round and a site of community A, the hand-built community of the coverage tests
(tests/testing/town.py), and samplers working at once."""

import threading

import pytest
from django.db import connection

from fangkong.core.errors import DomainError
from tests.testing.factories import SamplingSiteFactory, TestRoundFactory
from tests.testing.town import town  # noqa: F401


@pytest.fixture
def round_a(community_a):
    return TestRoundFactory(community=community_a, pool_size=5)


@pytest.fixture
def site_a(community_a):
    return SamplingSiteFactory(community=community_a, name="春雨广场")


def _run_at_once(calls) -> list[tuple]:
    """Run the calls in threads released together; each outcome is ('stored', pk), (DomainError code, None) or
    (error name, None)."""
    outcomes, barrier = [], threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=5)
            outcomes.append(("stored", call().pk))
        except DomainError as err:
            outcomes.append((err.code, None))
        except Exception as err:  # the database refusing a concurrent writer is also a refusal
            outcomes.append((type(err).__name__, None))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def at_once():
    """Run calls in threads released together (two samplers at one tube); needs django_db(transaction=True)."""
    return _run_at_once
