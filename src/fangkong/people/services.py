"""Every write to the people registry, each audited."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.accounts.roles import may_edit_registry, may_reveal_full_values
from fangkong.core import audit
from fangkong.core.errors import DomainError, NotAllowed, from_validation_error
from fangkong.core.idnumbers import normalize_document_number, normalize_phone, normalize_text, parse_resident_id
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import IdType, Person, PersonTag, Residency, Sex, Tag
from fangkong.people.names import pinyin_keys

PERSON_FIELDS = ("name", "id_type", "id_number", "sex", "birth_date", "phone", "household", "relationship",
                 "residency", "notes")


@dataclass
class PersonData:
    """Validated, normalised values of one person, as a form, the API or a ledger row gives them."""

    name: str
    id_type: str
    id_number: str
    sex: str = ""
    birth_date: object = None
    phone: str = ""
    relationship: str = ""
    residency: str = Residency.RESIDENT
    notes: str = ""
    tags: tuple = ()


def clean_person_data(*, name, id_number, id_type=IdType.RESIDENT_ID, sex="", birth_date=None, phone="",
                      relationship="", residency=Residency.RESIDENT, notes="", tags=()) -> PersonData:
    """Validate and normalise; raise DomainError naming the first bad field.

    For a resident ID, sex and birth date come from the number and must agree with any given.
    """
    name = normalize_text(name)
    if not name:
        raise DomainError(_("姓名不能为空"), fields={"name": _("必填")})
    if len(name) > 50:
        raise DomainError(_("姓名过长"), fields={"name": _("不超过50字")})
    if id_type not in IdType.values:
        raise DomainError(_("证件类型不正确"), fields={"id_type": _("证件类型不正确")})
    try:
        number = normalize_document_number(id_type, id_number)
    except ValidationError as err:
        raise from_validation_error(err, "id_number") from None
    if id_type == IdType.RESIDENT_ID:
        derived = parse_resident_id(number)
        if sex and sex != derived.sex:
            raise DomainError(_("性别与身份证号不符"), fields={"sex": _("性别与身份证号不符")})
        if birth_date and birth_date != derived.birth_date:
            raise DomainError(_("出生日期与身份证号不符"), fields={"birth_date": _("出生日期与身份证号不符")})
        sex, birth_date = derived.sex, derived.birth_date
    if sex and sex not in Sex.values:
        raise DomainError(_("性别不正确"), fields={"sex": _("性别不正确")})
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as err:
            raise from_validation_error(err, "phone") from None
    if residency not in Residency.values:
        raise DomainError(_("人员类型不正确"), fields={"residency": _("人员类型不正确")})
    unknown = [t for t in tags if t not in Tag.values]
    if unknown:
        raise DomainError(_("未知的重点人群标签:%(t)s") % {"t": "、".join(unknown)}, fields={"tags": _("未知标签")})
    return PersonData(name=name, id_type=id_type, id_number=number, sex=sex or "", birth_date=birth_date,
                      phone=phone or "", relationship=normalize_text(relationship)[:20], residency=residency,
                      notes=normalize_text(notes)[:500], tags=tuple(sorted(set(tags))))


def apply_person_data(person: Person, data: PersonData) -> list[str]:
    """Copy data onto person, keep the derived search keys in step; return the changed fields."""
    changed = []
    for field in ("name", "id_type", "id_number", "sex", "birth_date", "phone", "relationship", "residency", "notes"):
        value = getattr(data, field)
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    person.name_pinyin, person.name_initials = pinyin_keys(person.name)
    person.id_last4 = person.id_number[-4:]
    person.phone_last4 = person.phone[-4:] if person.phone else ""
    return changed


def _require_editor(actor) -> None:
    if not may_edit_registry(actor):
        raise NotAllowed(_("您的角色不能修改人员台账"))


def _check_household(actor, community, household) -> None:
    if household is None:
        ensure_in_scope(actor, community)
        return
    ensure_in_scope(actor, household)
    if household.community_id != community.id:
        raise DomainError(_("所选户不属于该社区"), fields={"household": _("不属于该社区")})


def _save_person(person: Person) -> Person:
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        message = _("该证件号码已登记")
        raise DomainError(message, code="duplicate", fields={"id_number": message}) from None
    return person


def _set_tags(person: Person, tags) -> bool:
    current = set(person.tags.values_list("tag", flat=True))
    wanted = set(tags)
    if current == wanted:
        return False
    person.tags.exclude(tag__in=wanted).delete()
    PersonTag.objects.bulk_create([PersonTag(person=person, tag=t) for t in wanted - current])
    return True


@transaction.atomic
def person_create(*, actor, community, household=None, **values) -> Person:
    _require_editor(actor)
    _check_household(actor, community, household)
    data = clean_person_data(**values)
    person = Person(community=community, household=household)
    apply_person_data(person, data)
    _save_person(person)
    _set_tags(person, data.tags)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=person, fields=[*PERSON_FIELDS, "tags"])
    return person


@transaction.atomic
def person_update(*, actor, person: Person, household=None, **values) -> Person:
    _require_editor(actor)
    ensure_in_scope(actor, person)
    _check_household(actor, person.community, household)
    data = clean_person_data(**values)
    changed = apply_person_data(person, data)
    if household != person.household:
        person.household = household
        changed.append("household")
    if changed:
        _save_person(person)
    if _set_tags(person, data.tags):
        changed.append("tags")
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=person, fields=changed)
    return person


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    _require_editor(actor)
    ensure_in_scope(actor, person)
    audit.record(actor=actor, action=audit.Action.DELETE, obj=person, fields=list(PERSON_FIELDS))
    person.delete()


def person_reveal(*, actor, person: Person) -> Person:
    """The explicit, logged action that shows a person's full ID number and phone."""
    ensure_in_scope(actor, person)
    if not may_reveal_full_values(actor):
        raise NotAllowed(_("您的角色不能查看完整证件号和手机号"))
    audit.record(actor=actor, action=audit.Action.REVEAL, obj=person, fields=["id_number", "phone"])
    return person


def _move_related_rows(duplicate: Person, keep: Person) -> list[str]:
    """Point every row that references the duplicate at the kept person instead."""
    moved = []
    for relation in Person._meta.related_objects:
        if relation.many_to_many or relation.related_model is PersonTag:
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: duplicate}).update(
            **{relation.field.name: keep})
        if count:
            moved.append(f"{relation.related_model._meta.model_name}:{count}")
    return moved


@transaction.atomic
def person_merge(*, actor, keep: Person, duplicate: Person) -> Person:
    """Merge a duplicate record into the one kept: everything it owns moves, it is deleted.

    Empty fields of the kept record are filled from the duplicate; tags are united.
    """
    _require_editor(actor)
    if keep.pk == duplicate.pk:
        raise DomainError(_("不能将人员与自己合并"), fields={"duplicate": _("请选择另一条记录")})
    keep = Person.objects.select_for_update().get(pk=keep.pk)
    ensure_in_scope(actor, keep)
    ensure_in_scope(actor, duplicate)
    filled = []
    for field in ("phone", "phone_last4", "household_id", "relationship", "notes", "sex", "birth_date"):
        if not getattr(keep, field) and getattr(duplicate, field):
            setattr(keep, field, getattr(duplicate, field))
            filled.append(field)
    moved = _move_related_rows(duplicate, keep)
    tags = set(keep.tags.values_list("tag", flat=True)) | set(duplicate.tags.values_list("tag", flat=True))
    _set_tags(keep, tags)
    audit.record(actor=actor, action=audit.Action.MERGE, obj=keep,
                 object_repr=f"{keep} ← {duplicate} (#{duplicate.pk})", fields=[*filled, *moved, "tags"])
    duplicate.delete()
    keep.save()
    return keep
