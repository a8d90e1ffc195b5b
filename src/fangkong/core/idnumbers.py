"""Identity document and phone number rules.

Mainland resident ID numbers follow GB 11643-1999: 6 digits of region, 8 of birth date,
3 of sequence (odd for men, even for women) and one check character computed mod 11.
"""

import datetime
import operator
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class IdType(models.TextChoices):
    """The identity documents a person may be registered with; `people.Person.id_type` takes its choices from here."""

    RESIDENT_ID = "resident_id", gettext_lazy("居民身份证")
    PASSPORT = "passport", gettext_lazy("护照")
    HK_MACAO_PERMIT = "hk_macao_permit", gettext_lazy("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", gettext_lazy("台湾居民来往大陆通行证")
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit", gettext_lazy("港澳台居民居住证")
    FOREIGN_PERMANENT = "foreign_permanent", gettext_lazy("外国人永久居留身份证")


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_CHECK_CHARS = "10X98765432"
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_PERMIT = re.compile(r"^[A-Z0-9]{6,18}$")


def normalize_text(value) -> str:
    """Full-width to half-width, stray spaces removed at the ends and collapsed inside."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


def compact(value) -> str:
    """normalize_text with every inner space removed too (for numbers and codes)."""
    return normalize_text(value).replace(" ", "")


_DIGIT_OFFSET = ord("0") * sum(_WEIGHTS)


def id_check_char(first17: str) -> str:
    """The check character of 17 ASCII digits, weighed from their bytes (a digit's byte is its value + 48)."""
    return _CHECK_CHARS[(sum(map(operator.mul, first17.encode(), _WEIGHTS)) - _DIGIT_OFFSET) % 11]


class ResidentId(NamedTuple):
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"


# A day before any "today" this process will see: most birth dates are older, and need not ask the clock.
_SURELY_PAST = datetime.date.today() - datetime.timedelta(days=2)


@lru_cache(maxsize=65536)
def _id_birth_date(digits: str) -> datetime.date | None:
    """The date an ID's eight birth digits name, or None; a ledger's IDs share a few thousand dates."""
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def resident_id_facts(number: str) -> ResidentId | None:
    """What a canonical 18-digit number states (birth date, sex), unchecked; None when its digits name no date.

    For a number known to be valid (the registry holds only numbers parse_resident_id accepted).
    """
    birth = _id_birth_date(number[6:14])
    if birth is None:
        return None
    return ResidentId(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def parse_resident_id(raw) -> ResidentId:
    """Validate an 18-digit resident ID and derive its birth date and sex.

    Lowercase x is accepted and normalised to X. Raises ValidationError in Chinese.
    An ID already in canonical form (as a ledger row or the registry holds it) skips normalising.
    """
    if type(raw) is str and _RESIDENT_ID.fullmatch(raw):
        number = raw
    else:
        number = compact(raw).upper()
        if not _RESIDENT_ID.fullmatch(number):
            raise ValidationError(_("身份证号应为18位,前17位为数字,最后一位为数字或X"), code="id_format")
    facts = resident_id_facts(number)
    if facts is None or facts.birth_date.year < 1900 or (
            facts.birth_date > _SURELY_PAST and facts.birth_date > datetime.date.today()):
        raise ValidationError(_("身份证号中的出生日期不存在"), code="id_birth_date")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位错误"), code="id_checksum")
    return facts


def normalize_document_number(id_type: str, raw) -> str:
    """Validate a document number for its type and return its canonical form."""
    number = compact(raw).upper()
    if not number:
        raise ValidationError(_("证件号码不能为空"), code="required")
    if id_type == IdType.RESIDENT_ID:
        return parse_resident_id(number).number
    pattern = _PASSPORT if id_type == IdType.PASSPORT else _PERMIT
    if not pattern.fullmatch(number):
        raise ValidationError(_("证件号码格式不正确"), code="document_format")
    return number


def normalize_phone(raw) -> str:
    """A mainland mobile number: 11 digits starting 13–19; +86 / 86 prefix and separators dropped."""
    if type(raw) is str and raw.isascii() and _MAINLAND_MOBILE.fullmatch(raw):
        return raw
    phone = re.sub(r"[\s\-()]", "", compact(raw))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not _MAINLAND_MOBILE.fullmatch(phone):
        raise ValidationError(_("手机号应为11位中国大陆手机号"), code="phone_format")
    return phone


def compose_resident_id(region: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a valid 18-digit ID: region (6 digits), birth date, 3-digit sequence (odd = man), check char.

    Used for demo data and tests, which must never use real people's numbers.
    """
    first17 = f"{region}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)
