"""How a registration names its person, before any query: a scanned personal code, an ID number, a person id."""

import re

from django.utils.translation import gettext as _

from fangkong.core.converters import is_id
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact, normalize_text
from fangkong.people.codes import is_personal_code, read_personal_code

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


def _clean_id_number(text: str) -> str:
    id_number = compact(normalize_text(text)).upper()
    if not _ID_NUMBER.match(id_number):
        message = _("请扫描个人码,或输入 18 位身份证号")
        raise DomainError(message, code="not_a_code", fields={"code": message})
    return id_number


def not_of_community() -> DomainError:
    message = _("该个人码不属于本社区")
    return DomainError(message, code="code_elsewhere", fields={"code": message})


def unknown_person() -> DomainError:
    message = _("本社区查无此人,请核对个人码或身份证号")
    return DomainError(message, code="unknown_person", fields={"code": message})


def person_named(person_id, code, id_number, read_code=read_personal_code) -> tuple[str, int | str, int | None]:
    """How a registration names its person, before any query: ('pk', person id, the community a personal code
    names or None) or ('id', ID number, None). A `code` that is no personal code is read as an ID number, as a
    scanner box takes either; a bad value raises the refusal it earns."""
    if person_id not in (None, ""):
        if not is_id(person_id):
            raise unknown_person()
        return "pk", int(person_id), None
    code = str(code or "").strip()
    if code and is_personal_code(code):
        holder = read_code(code)
        return "pk", holder.person_id, holder.community_id
    return "id", _clean_id_number(code or str(id_number or "")), None
