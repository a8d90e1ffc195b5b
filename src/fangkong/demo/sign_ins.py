"""The demo's sign-ins as `make run` and `fangkong demo` print them."""

import unicodedata
from dataclasses import dataclass

from fangkong.accounts.models import Role, User
from fangkong.demo.constants import (
    ADMIN_DISPLAY_NAME,
    ADMIN_SCOPE_LABEL,
    ADMIN_USERNAME,
    PASSWORD,
    RESIDENT_PHONE_NOTE,
    RESIDENT_SCOPE_LABEL,
    RESIDENT_USERNAME,
    STAFF_ACCOUNTS,
)


@dataclass(frozen=True)
class SignIn:
    role: str
    username: str
    password: str
    scope: str


def sign_ins() -> list[SignIn]:
    """Every demo account: the administrator, the staff, then the resident by phone (signing in by code)."""
    resident = User.objects.filter(username=RESIDENT_USERNAME, role=Role.RESIDENT).first()
    phone = resident.phone if resident else ""
    table = [SignIn(ADMIN_DISPLAY_NAME, ADMIN_USERNAME, PASSWORD, ADMIN_SCOPE_LABEL)]
    table += [SignIn(str(Role(account.role).label), account.username, PASSWORD, account.scope_label)
              for account in STAFF_ACCOUNTS]
    table.append(SignIn(str(Role.RESIDENT.label), phone, RESIDENT_PHONE_NOTE, RESIDENT_SCOPE_LABEL))
    return table


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_sign_ins(rows: list[SignIn]) -> str:
    header = SignIn("角色", "用户名/手机号", "密码", "范围")
    table = [header, *rows]
    widths = [max(_width(getattr(r, f)) for r in table) for f in ("role", "username", "password")]

    def line(row: SignIn) -> str:
        cells = [row.role, row.username, row.password]
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)) + "  " + row.scope

    return "\n".join([line(header), *(line(r) for r in rows)])
