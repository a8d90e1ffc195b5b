import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.models import AuditEvent
from fangkong.people.models import Person, PersonTag
from tests.people.factories import PersonFactory


def test_rows_are_stored_exactly_as_given_timestamps_and_json_included(community_a):
    stamp = timezone.now() - datetime.timedelta(days=3)
    columns = ("actor_label", "via", "action", "object_type", "object_id", "object_repr", "fields", "community_id",
               "created_at")
    insert_rows(AuditEvent, columns, [("甲", "cli", "create", "person", str(n), f"人{n}", ["name", "phone"],
                                       community_a.pk, stamp) for n in range(3)])
    events = AuditEvent.objects.order_by("object_id")
    assert [e.object_repr for e in events] == ["人0", "人1", "人2"]
    assert {e.created_at for e in events} == {stamp} and events[0].fields == ["name", "phone"]


def test_rows_get_ids_from_the_database(household_a):
    now = timezone.now()
    values = {"community_id": household_a.community_id, "household_id": household_a.pk, "name": "甲",
              "name_pinyin": "jia", "name_initials": "j", "id_type": "passport", "id_number": "E1234567",
              "id_last4": "4567", "sex": "", "birth_date": None, "phone": "", "phone_last4": "", "relationship": "",
              "residency": "resident", "notes": "", "created_at": now, "updated_at": now}
    insert_rows(Person, tuple(values), [tuple(values.values())])
    person = Person.objects.get(id_number="E1234567")
    insert_rows(PersonTag, ("person_id", "tag"), [(person.pk, "pregnant")])
    assert person.tag_codes() == ["pregnant"] and person.created_at == now


def test_many_rows_are_updated_each_with_its_own_values_across_chunks(household_a):
    people = PersonFactory.create_batch(5, household=household_a, notes="")
    born = [datetime.date(1950 + n, 1, 2) for n in range(5)]

    update_rows(Person, "id", ("notes", "birth_date"),
                [(person.pk, f"第{n}位", born[n]) for n, person in enumerate(people[:4])], chunk=3)

    stored = {p.pk: (p.notes, p.birth_date) for p in Person.objects.filter(pk__in=[p.pk for p in people])}
    assert [stored[p.pk] for p in people[:4]] == [(f"第{n}位", born[n]) for n in range(4)]
    assert stored[people[4].pk] == ("", people[4].birth_date)


def test_a_chunk_clearing_a_column_on_every_row_stores_nulls(household_a):
    people = PersonFactory.create_batch(3, household=household_a)

    update_rows(Person, "id", ("household_id", "birth_date", "notes"), [(p.pk, None, None, "搬离") for p in people])

    assert set(Person.objects.filter(pk__in=[p.pk for p in people]).values_list("household_id", "birth_date",
                                                                                "notes")) == {(None, None, "搬离")}


def test_a_broken_constraint_is_djangos_integrity_error_and_undoes_the_whole_insert(person_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(PersonTag, ("person_id", "tag"), [(person_a.pk, "pregnant"), (person_a.pk, "pregnant")])
    assert not PersonTag.objects.filter(person=person_a).exists()
    insert_rows(PersonTag, ("person_id", "tag"), [(person_a.pk, "pregnant")])
    assert PersonTag.objects.filter(person=person_a).count() == 1


def test_one_of_finds_the_rows_among_many_values_of_a_field_or_a_foreign_key(household_a, household_b):
    people = PersonFactory.create_batch(3, household=household_a)
    other = PersonFactory(household=household_b)
    numbers = [person.id_number for person in people[:2]] + [f"no-such-{n}" for n in range(2000)]
    assert set(Person.objects.filter(id_number__one_of=numbers)) == set(people[:2])
    assert set(Person.objects.filter(household_id__one_of=[household_b.pk, 0])) == {other}
    assert set(Person.objects.filter(household__one_of={household_a.pk})) == set(people)
    assert not Person.objects.filter(pk__one_of=[]).exists()
