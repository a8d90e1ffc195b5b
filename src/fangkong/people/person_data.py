"""The values of one person, validated and normalised, as every way of registering someone gives them.

A form, the API, a ledger row and a health worker's contact list all go through clean_person_data,
so a person is stored the same way whichever door they came in by.
"""

import operator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError, from_validation_error
from fangkong.core.idnumbers import (
    ResidentId,
    normalize_document_number,
    normalize_phone,
    normalize_text,
    parse_resident_id,
)
from fangkong.people.models import IdType, Person, Residency, Sex, Tag
from fangkong.people.names import pinyin_keys

PERSON_FIELDS = ("name", "id_type", "id_number", "sex", "birth_date", "phone", "household", "relationship",
                 "residency", "notes")


@dataclass(slots=True)
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


_ID_TYPES = frozenset(IdType.values)
_SEXES = frozenset(Sex.values)
_RESIDENCIES = frozenset(Residency.values)
_TAGS = frozenset(Tag.values)


def _document_number(id_type: str, id_number):
    """The canonical number, and for a resident ID what it says of birth date and sex."""
    try:
        if id_type == IdType.RESIDENT_ID:
            derived = parse_resident_id(id_number)
            return derived.number, derived
        return normalize_document_number(id_type, id_number), None
    except ValidationError as err:
        raise from_validation_error(err, "id_number") from None


def clean_person_data(*, name, id_number, id_type=IdType.RESIDENT_ID, sex="", birth_date=None, phone="",
                      relationship="", residency=Residency.RESIDENT, notes="", tags=()) -> PersonData:
    """Validate and normalise; raise DomainError naming the first bad field.

    For a resident ID, sex and birth date come from the number and must agree with any given.
    Called once per ledger row, so it avoids anything slower than a dictionary lookup it can.
    """
    name = normalize_text(name)
    if not name:
        raise DomainError(_("姓名不能为空"), fields={"name": _("必填")})
    if len(name) > 50:
        raise DomainError(_("姓名过长"), fields={"name": _("不超过50字")})
    if id_type not in _ID_TYPES:
        raise DomainError(_("证件类型不正确"), fields={"id_type": _("证件类型不正确")})
    number, derived = _document_number(id_type, id_number)
    if derived is not None:
        sex, birth_date = sex_and_birth_date_of(derived, sex, birth_date)
    if sex and sex not in _SEXES:
        raise DomainError(_("性别不正确"), fields={"sex": _("性别不正确")})
    phone = clean_phone(phone)
    if residency not in _RESIDENCIES:
        raise DomainError(_("人员类型不正确"), fields={"residency": _("人员类型不正确")})
    if tags:
        unknown = [t for t in tags if t not in _TAGS]
        if unknown:
            raise DomainError(_("未知的重点人群标签:%(t)s") % {"t": "、".join(unknown)}, fields={"tags": _("未知标签")})
    return PersonData(name=name, id_type=id_type, id_number=number, sex=sex or "", birth_date=birth_date,
                      phone=phone, relationship=clean_relationship(relationship), residency=residency,
                      notes=clean_notes(notes), tags=distinct_tags(tags))


def sex_and_birth_date_of(derived: ResidentId, sex: str, birth_date) -> tuple[str, object]:
    """A resident ID's sex and birth date; any given must agree with them."""
    if sex and sex != derived.sex:
        raise DomainError(_("性别与身份证号不符"), fields={"sex": _("性别与身份证号不符")})
    if birth_date and birth_date != derived.birth_date:
        raise DomainError(_("出生日期与身份证号不符"), fields={"birth_date": _("出生日期与身份证号不符")})
    return derived.sex, derived.birth_date


def clean_phone(phone) -> str:
    if not phone:
        return ""
    try:
        return normalize_phone(phone)
    except ValidationError as err:
        raise from_validation_error(err, "phone") from None


def clean_relationship(text) -> str:
    return normalize_text(text)[:20]


def clean_notes(text) -> str:
    return normalize_text(text)[:500] if text else ""


def distinct_tags(tags) -> tuple:
    return tuple(sorted(set(tags))) if tags else ()


STORED_FIELDS = ("name", "id_type", "id_number", "sex", "birth_date", "phone", "relationship", "residency", "notes")
SEARCH_KEY_FIELDS = ("name_pinyin", "name_initials", "id_last4", "phone_last4")
stored_fields_of = operator.attrgetter(*STORED_FIELDS)


def search_keys(name: str, id_number: str, phone: str) -> tuple[str, str, str, str]:
    """The SEARCH_KEY_FIELDS of a person with these values: pinyin, initials, last 4 of the ID and the phone."""
    pinyin, initials = pinyin_keys(name)
    return pinyin, initials, id_number[-4:], phone[-4:] if phone else ""


def stored_person_values(data: PersonData) -> dict:
    """The columns a person's data is stored as, with the search keys derived from it."""
    return {**dict(zip(STORED_FIELDS, stored_fields_of(data), strict=True)),
            **dict(zip(SEARCH_KEY_FIELDS, search_keys(data.name, data.id_number, data.phone), strict=True))}


def apply_person_data(person: Person, data: PersonData) -> list[str]:
    """Copy data onto person, keep the derived search keys in step; return the changed fields."""
    changed = [field for field in STORED_FIELDS if getattr(person, field) != getattr(data, field)]
    for field, value in stored_person_values(data).items():
        setattr(person, field, value)
    return changed

