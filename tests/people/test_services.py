import datetime

import pytest
from django.http import Http404

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.health.models import Contact
from fangkong.people import services
from fangkong.people.models import IdType, Person
from fangkong.testing.models import RoundExemption
from fangkong.zones.models import CareTask
from tests.health.factories import CaseFactory, ContactFactory
from tests.people.factories import PersonFactory, resident_id
from tests.testing.factories import RoundExemptionFactory, TestRoundFactory
from tests.zones.factories import ZoneFactory


def _values(**overrides):
    values = {"name": "王五", "id_number": resident_id(900), "phone": "13912345678", "relationship": "户主",
              "tags": ["elderly_alone"]}
    values.update(overrides)
    return values


def test_person_create_derives_sex_birth_date_and_search_keys(staff_a, household_a):
    person = services.person_create(actor=staff_a, community=household_a.community, household=household_a,
                                    **_values(id_number=resident_id(900).lower()))
    assert person.sex == "M"
    assert person.birth_date == datetime.date(1980, 1, 2)
    assert (person.name_pinyin, person.name_initials) == ("wangwu", "ww")
    assert person.id_last4 == person.id_number[-4:]
    assert person.tag_codes() == ["elderly_alone"]
    event = AuditEvent.objects.get(action="create", object_type="person")
    assert event.actor == staff_a and "id_number" in event.fields


@pytest.mark.parametrize("field, overrides", [
    ("id_number", {"id_number": "150105198001010012"}),
    ("id_number", {"id_number": "150105198002300011"}),
    ("phone", {"phone": "1234"}),
    ("name", {"name": "   "}),
    ("tags", {"tags": ["vip"]}),
    ("sex", {"sex": "F"}),
])
def test_bad_values_name_the_field_and_write_nothing(staff_a, household_a, field, overrides):
    with pytest.raises(DomainError) as err:
        services.person_create(actor=staff_a, community=household_a.community, household=household_a,
                               **_values(**overrides))
    assert field in err.value.fields
    assert not Person.objects.exists()


def test_one_document_is_one_person(staff_a, household_a):
    services.person_create(actor=staff_a, community=household_a.community, household=household_a, **_values())
    with pytest.raises(DomainError) as err:
        services.person_create(actor=staff_a, community=household_a.community, household=household_a,
                               **_values(name="王五二"))
    assert err.value.code == "duplicate"
    assert Person.objects.count() == 1


def test_passport_numbers_are_kept_without_derivation(staff_a, household_a):
    person = services.person_create(actor=staff_a, community=household_a.community, household=household_a,
                                    **_values(id_type=IdType.PASSPORT, id_number="e1234567 ", sex="F"))
    assert (person.id_number, person.sex, person.birth_date) == ("E1234567", "F", None)


def test_creating_into_another_grids_household_is_not_found(grid_member_b, household_a):
    with pytest.raises(Http404):
        services.person_create(actor=grid_member_b, community=household_a.community, household=household_a, **_values())


def test_volunteers_cannot_edit_the_registry(volunteer, household_a):
    with pytest.raises(NotAllowed):
        services.person_create(actor=volunteer, community=household_a.community, household=household_a, **_values())


def test_update_records_only_changed_fields(staff_a, person_a):
    values = {"name": person_a.name, "id_number": person_a.id_number, "phone": "13700000000",
              "tags": ["dialysis"]}
    services.person_update(actor=staff_a, person=person_a, household=person_a.household, **values)
    event = AuditEvent.objects.get(action="update")
    assert event.fields == ["phone", "tags"]
    assert Person.objects.get(pk=person_a.pk).phone_last4 == "0000"


def test_update_without_changes_writes_no_audit_event(staff_a, person_a):
    services.person_update(actor=staff_a, person=person_a, household=person_a.household, name=person_a.name,
                           id_number=person_a.id_number, phone=person_a.phone)
    assert not AuditEvent.objects.filter(action="update").exists()


def test_update_outside_scope_is_not_found(staff_b, person_a):
    with pytest.raises(Http404):
        services.person_update(actor=staff_b, person=person_a, household=None, name="x", id_number=person_a.id_number)


def test_reveal_is_logged_and_refused_for_volunteers(grid_member_a, volunteer, person_a):
    services.person_reveal(actor=grid_member_a, person=person_a)
    assert AuditEvent.objects.filter(action="reveal", actor=grid_member_a, object_id=str(person_a.pk)).exists()
    with pytest.raises(NotAllowed):
        services.person_reveal(actor=volunteer, person=person_a)


def test_reveal_outside_scope_is_not_found(grid_member_b, person_a):
    with pytest.raises(Http404):
        services.person_reveal(actor=grid_member_b, person=person_a)


def test_merge_moves_what_the_duplicate_owns_and_unites_tags(staff_a, household_a, resident):
    keep = PersonFactory(household=household_a, name="赵六", phone="", tags=["disabled"])
    duplicate = PersonFactory(household=household_a, name="赵六", phone="13611112222", tags=["elderly_alone"])
    resident.person = duplicate
    resident.save()
    services.person_merge(actor=staff_a, keep=keep, duplicate=duplicate)
    keep.refresh_from_db()
    resident.refresh_from_db()
    assert not Person.objects.filter(pk=duplicate.pk).exists()
    assert keep.phone == "13611112222" and keep.phone_last4 == "2222"
    assert keep.tag_codes() == ["disabled", "elderly_alone"]
    assert resident.person == keep
    assert AuditEvent.objects.filter(action="merge", object_id=str(keep.pk)).exists()


def test_merge_with_itself_or_across_scope_is_refused(staff_a, person_a, person_b):
    with pytest.raises(DomainError):
        services.person_merge(actor=staff_a, keep=person_a, duplicate=person_a)
    with pytest.raises(Http404):
        services.person_merge(actor=staff_a, keep=person_a, duplicate=person_b)
    assert Person.objects.filter(pk=person_b.pk).exists()


def test_delete_is_audited(staff_a, person_a):
    services.person_delete(actor=staff_a, person=person_a)
    assert not Person.objects.filter(pk=person_a.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_repr="张三").exists()


def test_a_person_with_a_case_is_not_deleted_but_refused_in_chinese(staff_a, person_a):
    # Given 张三 with a case (a sample, a transfer would hold him the same way)
    CaseFactory(person=person_a)
    # When staff delete him, then they are told why, and he and his case stay
    with pytest.raises(Conflict) as err:
        services.person_delete(actor=staff_a, person=person_a)
    assert err.value.code == "person_in_use" and "张三" in err.value.message
    assert Person.objects.filter(pk=person_a.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_grid_members_cannot_register_someone_without_a_household(grid_member_a, household_a):
    with pytest.raises(DomainError) as err:
        services.person_create(actor=grid_member_a, community=household_a.community, household=None, **_values())
    assert err.value.code == "household_required" and "household" in err.value.fields
    assert not Person.objects.exists()


def test_grid_members_cannot_move_someone_out_of_their_grid(grid_member_a, person_a):
    with pytest.raises(DomainError):
        services.person_patch(actor=grid_member_a, person=person_a, changes={"household": None})
    assert Person.objects.get(pk=person_a.pk).household_id == person_a.household_id


def test_community_staff_may_register_someone_without_a_household(staff_a, community_a):
    person = services.person_create(actor=staff_a, community=community_a, household=None, **_values())
    assert person.household is None and person.community == community_a


def test_patch_changes_only_the_given_fields(staff_a, person_a):
    services.person_patch(actor=staff_a, person=person_a, changes={"notes": "行动不便", "tags": ["immobile"]})
    person_a.refresh_from_db()
    assert (person_a.notes, person_a.tag_codes(), person_a.phone) == ("行动不便", ["immobile"], "13800001234")


def test_records_of_different_communities_are_not_merged(street_admin, person_a, person_b):
    with pytest.raises(DomainError) as err:
        services.person_merge(actor=street_admin, keep=person_a, duplicate=person_b)
    assert err.value.code == "different_communities"
    assert Person.objects.filter(pk=person_b.pk).exists()


def test_merge_records_the_deletion_of_the_duplicate(staff_a, household_a):
    keep = PersonFactory(household=household_a, name="赵六")
    duplicate = PersonFactory(household=household_a, name="赵六")
    duplicate_id = duplicate.pk
    services.person_merge(actor=staff_a, keep=keep, duplicate=duplicate)
    assert AuditEvent.objects.filter(action="delete", object_id=str(duplicate_id)).exists()


def test_merge_moves_round_exemptions_and_gives_the_kept_record_its_daily_check(staff_a, household_a, unit_a):
    # Given a sealed unit, and two records of one dialysis patient, the duplicate exempted from a round
    zone = ZoneFactory(place=unit_a)
    keep = PersonFactory(household=household_a, name="赵六")
    duplicate = PersonFactory(household=household_a, name="赵六", tags=["dialysis"])
    exemption = RoundExemptionFactory(person=duplicate, round=TestRoundFactory(community=household_a.community))

    services.person_merge(actor=staff_a, keep=keep, duplicate=duplicate)

    # Then the exemption is the kept record's, and the kept record, now tagged, is looked in on daily
    assert RoundExemption.objects.get(pk=exemption.pk).person_id == keep.pk
    assert list(CareTask.objects.filter(zone=zone).values_list("person_id", flat=True)) == [keep.pk]


def test_merge_refuses_records_that_both_have_a_row_allowed_once_per_person(staff_a, household_a):
    keep = PersonFactory(household=household_a, name="赵六")
    duplicate = PersonFactory(household=household_a, name="赵六")
    case = CaseFactory(person=PersonFactory(household=household_a))
    for person in (keep, duplicate):
        ContactFactory(case=case, person=person)

    with pytest.raises(Conflict) as refused:
        services.person_merge(actor=staff_a, keep=keep, duplicate=duplicate)

    assert "密接/次密接" in refused.value.message
    assert Person.objects.filter(pk=duplicate.pk).exists()
    assert sorted(Contact.objects.values_list("person_id", flat=True)) == sorted([keep.pk, duplicate.pk])
