"""A lower app's write and the apps above that follow it land together, and the wiring is checked."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from fangkong.people import services as people_services
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db


def refuse(**facts):
    raise RuntimeError("the follower failed")


def test_when_a_follower_fails_the_registry_write_it_follows_is_undone(settings, staff_a, person_a):
    # Given the follower of registry changes failing
    settings.FOLLOWERS = {**settings.FOLLOWERS, "people.households_changed": ["tests.core.test_followers.refuse"]}
    # When staff tag someone on dialysis
    with pytest.raises(RuntimeError):
        people_services.person_update(actor=staff_a, person=person_a, household=person_a.household,
                                      name=person_a.name, id_type=person_a.id_type, id_number=person_a.id_number,
                                      tags=["dialysis"])
    # Then the tag is not stored: nobody is tagged without the daily checks following
    assert Person.objects.get(pk=person_a.pk).tag_codes() == []


def test_fangkong_check_names_a_follower_that_cannot_be_imported(settings):
    settings.FOLLOWERS = {**settings.FOLLOWERS, "zones.status_changed": ["fangkong.volunteers.services.no_such_post"]}
    with pytest.raises(SystemCheckError, match="no_such_post"):
        call_command("check")
