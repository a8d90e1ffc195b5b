"""What a guard's scanner reads: a personal code (个人码), a pass card's code (出入证码) or a typed ID number.

A pass code names the pass and its community, signed with the deployment's key; it carries no
time, because the pass row says until when it is valid and whether it was revoked. A checkpoint's
poster carries the signed id of the checkpoint, so the self-scan page cannot be pointed at another gate.
"""

import re
from dataclasses import dataclass

import segno
from django.core import signing
from django.utils.translation import gettext as _

from fangkong.access.models import Reason
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compact, normalize_text
from fangkong.people.codes import is_personal_code

PASS_PREFIX = "FKP1:"
_PASS_SALT = "fangkong.pass-code"
_POSTER_SALT = "fangkong.checkpoint-poster"
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True)
class Scanned:
    """What a scanned or typed text names, before any query: kind is "person" (a personal code's
    CodeHolder), "pass" (pass id and community id) or "id_number"; `problem` the Reason of a bad code."""

    kind: str
    person_id: int | None = None
    pass_id: int | None = None
    community_id: int | None = None
    id_number: str = ""
    problem: str = ""


def pass_code(pass_) -> str:
    return PASS_PREFIX + signing.Signer(salt=_PASS_SALT).sign(f"{pass_.pk}.{pass_.community_id}")


def pass_code_svg(pass_, *, scale: int = 4) -> str:
    return segno.make(pass_code(pass_), error="m").svg_inline(scale=scale)


def _read_pass(text: str) -> Scanned:
    try:
        value = signing.Signer(salt=_PASS_SALT).unsign(text[len(PASS_PREFIX):])
        pass_id, community_id = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        return Scanned(kind="pass", problem=Reason.CODE_FORGED)
    return Scanned(kind="pass", pass_id=pass_id, community_id=community_id)


def read_scanned(text: str, read_personal) -> Scanned:
    """What `text` names; `read_personal` is `people.codes.personal_code_reader()`, made once per batch.

    A personal code that is forged or expired, a pass code that is forged, and anything that is neither
    a code nor an 18-digit ID number come back with their problem; the passage is then refused.
    """
    text = normalize_text(text or "").strip()
    if text.startswith(PASS_PREFIX):
        return _read_pass(text)
    if is_personal_code(text):
        try:
            holder = read_personal(text)
        except DomainError as err:
            problem = Reason.CODE_EXPIRED if err.code == "code_expired" else Reason.CODE_FORGED
            return Scanned(kind="person", problem=problem)
        return Scanned(kind="person", person_id=holder.person_id, community_id=holder.community_id)
    number = compact(text).upper()
    if _ID_NUMBER.match(number):
        return Scanned(kind="id_number", id_number=number)
    return Scanned(kind="unknown", problem=Reason.CODE_FORGED)


def poster_token(checkpoint) -> str:
    return signing.Signer(salt=_POSTER_SALT).sign_object({"k": checkpoint.pk})


def checkpoint_of_poster(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=_POSTER_SALT).unsign_object(token)["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def require_scanned_text(text: str) -> str:
    text = normalize_text(text or "").strip()
    if not text or len(text) > 300:
        message = _("请扫描个人码或出入证,或输入 18 位身份证号")
        raise DomainError(message, code="no_code", fields={"code": message})
    return text
