"""One row by id, as every get_<entity>_for looks it up: 404 outside the scope, and for an id that cannot exist."""

import pytest
from django.http import Http404

from fangkong.core.scope import get_in_scope
from fangkong.health import queries as health_queries
from fangkong.people import queries as people_queries
from fangkong.people.models import Person
from fangkong.volunteers import queries as volunteer_queries
from fangkong.zones import queries as zone_queries

pytestmark = pytest.mark.django_db

LOOKUPS = [people_queries.get_person_for, health_queries.get_observation_for, health_queries.get_case_for,
           health_queries.get_transfer_for, zone_queries.get_zone_for, zone_queries.get_care_task_for,
           volunteer_queries.get_post_for]


def test_a_row_in_scope_is_found_and_one_outside_is_404_like_a_missing_one(staff_a, staff_b, person_a):
    assert get_in_scope(Person.objects.in_scope(staff_a), person_a.pk) == person_a

    for pk in (person_a.pk, person_a.pk + 1000):
        with pytest.raises(Http404):
            get_in_scope(Person.objects.in_scope(staff_b), pk)


@pytest.mark.parametrize("lookup", LOOKUPS, ids=lambda lookup: lookup.__name__)
@pytest.mark.parametrize("pk", [0, -1, "x", "1.5", "１", 2**63, 2**64])
def test_an_id_that_cannot_exist_is_404_never_a_database_error(admin, person_a, lookup, pk):
    # Given the administrator, who sees every row, when a lookup is handed an id no row can have
    with pytest.raises(Http404):
        lookup(admin, pk)
