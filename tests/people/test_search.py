import pytest
from django.test import override_settings

from fangkong.core.errors import RateLimited
from fangkong.core.models import AuditEvent
from fangkong.people.queries import duplicate_suspects, scope_counts
from fangkong.people.services import person_search
from tests.people.factories import PersonFactory, resident_id
from tests.places.factories import HouseholdFactory, UnitFactory


@pytest.fixture
def registry(household_a, person_a):
    """张三 at 3-2-301 (phone ends 1234), 李娜 at 3-1-101, 张小明 with no phone."""
    other_unit = UnitFactory(building=household_a.building, number="1")
    li = PersonFactory(household=HouseholdFactory(unit=other_unit, room="101"), name="李娜", phone="13911119999")
    ming = PersonFactory(household=household_a, name="张小明", phone="", phone_last4="")
    return {"zhang": person_a, "li": li, "ming": ming}


def _names(actor, text, **filters):
    return [p.name for p in person_search(actor=actor, text=text, **filters)]


def test_pinyin_initials_find_the_name(staff_a, registry):
    assert _names(staff_a, "zs") == ["张三"]
    assert set(_names(staff_a, "z")) == {"张三", "张小明"}
    assert _names(staff_a, "ZhangXiao") == ["张小明"]


def test_name_fragments_find_people(staff_a, registry):
    assert set(_names(staff_a, "张")) == {"张三", "张小明"}


def test_last_four_of_id_or_phone(staff_a, registry):
    assert _names(staff_a, "1234") == ["张三"]
    assert _names(staff_a, registry["li"].id_number[-4:]) == ["李娜"]


def test_address_shorthand(staff_a, registry):
    assert set(_names(staff_a, "3-2-301")) == {"张三", "张小明"}
    assert _names(staff_a, "3-1") == ["李娜"]
    assert _names(staff_a, "3号楼-1单元-101") == ["李娜"]


def test_search_never_crosses_scope(grid_member_b, registry, person_b):
    assert _names(grid_member_b, "zs") == []
    assert _names(grid_member_b, "3-2-301") == []


def test_filters_by_tag(staff_a, registry):
    PersonFactory(household=registry["zhang"].household, name="孙七", tags=["pregnant"])
    assert _names(staff_a, "", tag="pregnant") == ["孙七"]


def test_full_id_search_finds_one_person_and_is_audited(staff_a, registry):
    assert _names(staff_a, registry["li"].id_number) == ["李娜"]
    assert _names(staff_a, f"李娜 {registry['li'].id_number}") == ["李娜"]
    assert _names(staff_a, f"张三 {registry['li'].id_number}") == []
    assert AuditEvent.objects.filter(action="search_full_id", actor=staff_a).count() == 3


@override_settings(FULL_ID_SEARCH_LIMIT=3)
def test_full_id_search_is_rate_limited_per_account(staff_a, grid_member_a, registry):
    number = registry["li"].id_number
    for other in (number, registry["zhang"].id_number, resident_id(4321)):
        _names(staff_a, other)
    with pytest.raises(RateLimited):
        _names(staff_a, resident_id(4322))
    assert _names(grid_member_a, number) == ["李娜"]
    assert _names(staff_a, "zs") == ["张三"]


def test_duplicate_suspects_by_name_and_phone_or_birth_date(staff_a, household_a):
    a = PersonFactory(household=household_a, name="周八", phone="13500000001")
    b = PersonFactory(household=household_a, name="周八", phone="13500000001")
    c = PersonFactory(household=household_a, name="吴九", id_number=resident_id(777))
    d = PersonFactory(household=household_a, name="吴九", id_type="passport", id_number="E7654321",
                      birth_date=c.birth_date, phone="")
    PersonFactory(household=household_a, name="郑十")
    groups = duplicate_suspects(staff_a)
    assert sorted(tuple(p.pk for p in g["persons"]) for g in groups) == sorted([(a.pk, b.pk), (c.pk, d.pk)])


def test_duplicate_suspects_stay_in_scope(staff_b, household_a):
    PersonFactory(household=household_a, name="周八", phone="13500000001")
    PersonFactory(household=household_a, name="周八", phone="13500000001")
    assert duplicate_suspects(staff_b) == []


def test_scope_counts(staff_a, staff_b, registry, person_b):
    PersonFactory(household=registry["zhang"].household, tags=["pregnant", "chronic_severe"])
    counts = scope_counts(staff_a)
    tags = {t["code"]: t["count"] for t in counts["tags"]}
    assert (counts["households"], counts["persons"]) == (2, 4)
    assert (tags["pregnant"], tags["chronic_severe"], tags["dialysis"]) == (1, 1, 0)
    assert scope_counts(staff_b)["persons"] == 1


@override_settings(FULL_ID_SEARCH_LIMIT=3)
def test_a_live_search_typing_one_id_counts_once(staff_a, registry):
    """Typing an ID costs two lookups: the whole ID, and its first 11 digits, a valid mobile number."""
    number = registry["li"].id_number
    for end in range(5, 19):
        _names(staff_a, number[:end])
    _names(staff_a, number)
    assert _names(staff_a, registry["zhang"].id_number) == ["张三"]
    with pytest.raises(RateLimited):
        _names(staff_a, registry["ming"].id_number)


def test_id_fragments_find_nobody(staff_a, registry):
    assert _names(staff_a, registry["li"].id_number[:10]) == []
    assert _names(staff_a, registry["li"].id_number[4:12]) == []


def test_passport_numbers_are_full_document_searches(staff_a, household_a):
    PersonFactory(household=household_a, name="Anna", id_type="passport", id_number="E12345678")
    assert _names(staff_a, "e12345678") == ["Anna"]
    assert AuditEvent.objects.filter(action="search_full_id").count() == 1


@override_settings(FULL_ID_SEARCH_LIMIT=1)
def test_whole_phone_numbers_are_identity_lookups_too(staff_a, registry):
    assert _names(staff_a, "13911119999") == ["李娜"]
    event = AuditEvent.objects.get(action="search_full_id")
    assert event.fields == ["phone"] and event.community_id == registry["li"].community_id
    with pytest.raises(RateLimited):
        _names(staff_a, "13800001234")


def test_duplicate_suspects_take_a_fixed_number_of_queries(staff_a, household_a, django_assert_max_num_queries):
    for n in range(12):
        PersonFactory(household=household_a, name=f"重名{n}", phone=f"1350000{n:04d}")
        PersonFactory(household=household_a, name=f"重名{n}", phone=f"1350000{n:04d}")
    with django_assert_max_num_queries(8):
        groups = duplicate_suspects(staff_a)
    assert len(groups) == 12 and all(len(g["persons"]) == 2 for g in groups)
