"""The guard post a 24-hour-guarded sealed unit opens, shared by the post tests."""

import pytest

from fangkong.volunteers import services
from tests.zones.factories import ZoneFactory


@pytest.fixture
def zone_post(unit_a, staff_a):
    return services.posts_open_for_zone(actor=staff_a, zone=ZoneFactory(place=unit_a, guarded=True))[0]
