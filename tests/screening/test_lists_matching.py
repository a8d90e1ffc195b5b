"""Matching a list against the registry: ID exact, else phone, else name and birth date; several
candidates are ambiguous; persons outside the list's community are never candidates."""

import datetime

import pytest

from fangkong.screening.models import MatchKind
from fangkong.screening.services import verification_batch_import
from tests.people.factories import PersonFactory, resident_id
from tests.screening.list_files import list_csv, list_row, list_xlsx


def _import(actor, rows, **options):
    data = list_xlsx(rows)
    return verification_batch_import(actor=actor, file_name="名单.xlsx", data=data, title="核查名单", hours=4,
                                     **options)


def _items(batch):
    return {item.line: item for item in batch.items.select_related("person", "grid")}


@pytest.mark.django_db
def test_id_number_matches_exactly_and_row_goes_to_the_persons_grid(staff_a, person_a, grid_a):
    # Given 张三 registered in grid A, when a list names his ID (typed in full-width digits)
    full_width = person_a.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    batch = _import(staff_a, [list_row(1, name="张三", id_number=full_width)])
    # Then the row is his, matched by ID, assigned to grid A of community A
    item = _items(batch)[3]
    assert item.person == person_a
    assert item.match_kind == MatchKind.ID_NUMBER
    assert item.grid == grid_a
    assert item.community_id == person_a.community_id


@pytest.mark.django_db
def test_phone_matches_when_the_id_is_missing(staff_a, person_a):
    # Given a row without ID but with 张三's phone
    batch = _import(staff_a, [list_row(1, name="张三", phone="138-0000-1234")])
    # Then he is found by phone
    item = _items(batch)[3]
    assert (item.person, item.match_kind, item.phone) == (person_a, MatchKind.PHONE, "13800001234")


@pytest.mark.django_db
def test_name_and_birth_date_match_when_id_and_phone_find_nobody(staff_a, household_a):
    # Given 王芳 registered with another phone, and a list whose ID for her is a different (but valid) number
    wang = PersonFactory(household=household_a, name="王芳", id_number=resident_id(40), phone="13911112222")
    other_id_same_birth = resident_id(41)
    assert other_id_same_birth[6:14] == wang.id_number[6:14]
    batch = _import(staff_a, [list_row(1, name="王芳", id_number=other_id_same_birth, phone="13700000000")])
    # Then she is found by name and the birth date the row's ID gives
    item = _items(batch)[3]
    assert (item.person, item.match_kind) == (wang, MatchKind.NAME_BIRTH)


@pytest.mark.django_db
def test_birth_date_column_serves_when_there_is_no_id(staff_a, household_a):
    wang = PersonFactory(household=household_a, name="王芳", id_number=resident_id(40))
    header = ["姓名", "身份证号", "出生日期", "来自"]
    data = list_csv([["王芳", "", wang.birth_date.strftime("%Y/%m/%d"), "上海"]], header=header)
    batch = verification_batch_import(actor=staff_a, file_name="名单.csv", data=data, title="核查", hours=2)
    item = _items(batch)[2]
    assert (item.person, item.match_kind, item.origin) == (wang, MatchKind.NAME_BIRTH, "上海")


@pytest.mark.django_db
def test_two_candidates_are_ambiguous_and_wait_in_the_community_queue(staff_a, household_a, community_a):
    # Given two persons sharing one phone (a family), when a row gives only that phone
    PersonFactory(household=household_a, name="赵一", phone="13655556666")
    PersonFactory(household=household_a, name="赵二", phone="13655556666")
    batch = _import(staff_a, [list_row(1, name="赵某", phone="13655556666")])
    # Then nobody is picked: the row is ambiguous, in community A's queue (no grid)
    item = _items(batch)[3]
    assert (item.person, item.match_kind, item.grid, item.community) == (None, MatchKind.AMBIGUOUS, None, community_a)


@pytest.mark.django_db
def test_person_of_another_community_is_not_matched(staff_a, person_a, person_b, community_a):
    # Given 李四 lives in community B, when community A imports a list naming his ID and phone
    batch = _import(staff_a, [list_row(1, name="李四", id_number=person_b.id_number, phone=person_b.phone)])
    # Then the row stays unmatched in A's queue: the list does not reveal where he lives
    item = _items(batch)[3]
    assert (item.person, item.match_kind, item.community, item.grid) == (None, MatchKind.NONE, community_a, None)


@pytest.mark.django_db
def test_street_list_matches_across_communities_and_queues_the_rest_at_the_street(street_admin, person_a, person_b,
                                                                                 grid_b):
    # Given a street admin importing for the whole street
    batch = _import(street_admin, [list_row(1, id_number=person_a.id_number), list_row(2, id_number=person_b.id_number),
                                   list_row(3, name="无名氏", id_number=resident_id(99))])
    items = _items(batch)
    # Then each community's person is found, and the unknown row waits in the street's queue
    assert batch.community is None
    assert items[3].person == person_a
    assert (items[4].person, items[4].grid) == (person_b, grid_b)
    assert (items[5].person, items[5].community, items[5].match_kind) == (None, None, MatchKind.NONE)


@pytest.mark.django_db
def test_matching_runs_a_fixed_number_of_queries(staff_a, household_a, django_assert_max_num_queries):
    # Given 300 persons and a list naming each of them three ways
    persons = [PersonFactory(household=household_a, id_number=resident_id(100 + n)) for n in range(300)]
    rows = [list_row(n, id_number=p.id_number) if n % 3 == 0 else
            list_row(n, phone=p.phone) if n % 3 == 1 else
            list_row(n, name=p.name, id_number=resident_id(2000 + n, birth=datetime.date(1970, 1, 1)))
            for n, p in enumerate(persons)]
    # Then matching and writing take a fixed number of queries, not one per row
    with django_assert_max_num_queries(25):
        batch = _import(staff_a, rows)
    assert batch.items.filter(person__isnull=False).count() == 200
