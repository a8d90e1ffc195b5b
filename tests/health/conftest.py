"""Destinations of the street, shared by the transfer tests."""

import pytest

from fangkong.health.models import Destination
from tests.health.factories import DestinationFactory


@pytest.fixture
def hotel(street):
    return DestinationFactory(street=street, name="锦江宾馆", kind=Destination.Kind.CENTRAL_QUARANTINE)


@pytest.fixture
def hospital(street):
    return DestinationFactory(street=street, name="市公卫中心", kind=Destination.Kind.HOSPITAL)


@pytest.fixture
def cabin(street):
    return DestinationFactory(street=street, name="国博方舱", kind=Destination.Kind.MAKESHIFT_HOSPITAL)
