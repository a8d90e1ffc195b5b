"""The mass-testing cast: a round and a site of community A, and the hand-built community of the coverage tests
(tests/testing/town.py)."""

import pytest

from tests.testing.factories import SamplingSiteFactory, TestRoundFactory
from tests.testing.town import town  # noqa: F401


@pytest.fixture
def round_a(community_a):
    return TestRoundFactory(community=community_a, pool_size=5)


@pytest.fixture
def site_a(community_a):
    return SamplingSiteFactory(community=community_a, name="春雨广场")
