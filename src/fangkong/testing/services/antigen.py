"""Antigen self-tests reported by residents (or staff), with a photo of the card if they like."""

import datetime
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.client_ids import clean_client_id
from fangkong.core.clock import not_later_than_now
from fangkong.core.errors import DomainError, NotAllowed, require_choice
from fangkong.core.scope import ensure_in_scope
from fangkong.core.uploads import check_upload_size
from fangkong.people.models import Person
from fangkong.testing import queries
from fangkong.testing.models import AntigenReport, Result, TestRound

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _check_photo(photo) -> None:
    """At most 5 MB, and a JPEG or PNG by its first bytes (a renamed file is refused whatever its name says)."""
    check_upload_size(photo, field="photo", limit=MAX_PHOTO_BYTES)
    photo.seek(0)
    head = photo.read(8)
    photo.seek(0)
    if not head.startswith(_PHOTO_SIGNATURES):
        message = _("照片应为 JPEG 或 PNG 图片")
        raise DomainError(message, code="photo_not_image", fields={"photo": message})


def _antigen_taken_at(taken_at: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    taken_at = not_later_than_now(taken_at, field="taken_at", label=_("检测时间"), now=now)
    if taken_at < now - datetime.timedelta(days=7):
        message = _("只能填报7天内的检测")
        raise DomainError(message, fields={"taken_at": message})
    return taken_at


def _antigen_round(person: Person, round: TestRound | None, taken_at: datetime.datetime) -> TestRound | None:
    """The round a report counts in: the one given (of the person's community), else the latest round that
    day expecting the person, else none."""
    if round is not None:
        if round.community_id != person.household.community_id:
            message = _("该轮次不属于此人所在社区")
            raise DomainError(message, fields={"round": message})
        return round
    return queries.latest_round_expecting(person, timezone.localdate(taken_at))


def antigen_report(*, actor, person: Person, result: str, taken_at: datetime.datetime | None = None, photo=None,
                   client_id=None, round: TestRound | None = None) -> AntigenReport:
    """A resident reports an antigen self-test for a member of their own household (staff for anyone in scope).

    The same client_id twice stores once and returns the first report; it is counted apart from samples.
    """
    if not actor.is_authenticated:
        raise NotAllowed(_("请先登录"))
    client_id = clean_client_id(client_id, required=False)
    if client_id is not None:
        existing = AntigenReport.objects.filter(client_id=client_id).first()
        if existing is not None:
            ensure_in_scope(actor, existing)
            return existing
    ensure_in_scope(actor, person)
    if person.household_id is None:
        message = _("该人员没有登记住户,无法填报")
        raise DomainError(message, fields={"person": message})
    require_choice(result, Result, field="result", label=_("检测结果"))
    if photo:
        _check_photo(photo)
    taken_at = _antigen_taken_at(taken_at)
    round = _antigen_round(person, round, taken_at)
    try:
        with transaction.atomic():
            return _store_antigen(actor=actor, person=person, result=result, taken_at=taken_at, photo=photo,
                                  client_id=client_id, round=round)
    except IntegrityError:
        existing = AntigenReport.objects.filter(client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return existing


def _store_antigen(*, actor, person: Person, result: str, taken_at, photo, client_id, round) -> AntigenReport:
    report = AntigenReport(community_id=person.household.community_id, person=person, household_id=person.household_id,
                           round=round, result=result, taken_at=taken_at, reported_by=actor, client_id=client_id)
    if photo:
        report.photo.save(f"{uuid.uuid4().hex}{_photo_suffix(photo)}", photo, save=False)
    report.save()
    audit.record(actor=actor, action=audit.Action.CREATE, obj=report, object_repr=str(person),
                 fields=["result", "taken_at"] + (["photo"] if photo else []))
    return report


def _photo_suffix(photo) -> str:
    photo.seek(0)
    suffix = ".png" if photo.read(8).startswith(_PHOTO_SIGNATURES[1]) else ".jpg"
    photo.seek(0)
    return suffix
