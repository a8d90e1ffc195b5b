"""Tubes: opened by barcode at a site of an open round, closed at their pool size or by hand."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.scope import ensure_in_scope
from fangkong.testing.models import SamplingSite, TestRound, Tube, normalize_barcode
from fangkong.testing.permissions import require_sampler


def clean_barcode(raw, *, field: str) -> str:
    barcode = normalize_barcode(raw)
    if not barcode or len(barcode) > 40:
        message = _("请扫描或输入采样管条码(最多 40 位)")
        raise DomainError(message, code="bad_barcode", fields={field: message})
    return barcode


def round_closed(round: TestRound) -> DomainError:
    return DomainError(_("“%(round)s”已结束,不能再采样") % {"round": round.name}, code="round_closed")


def require_site_of(round: TestRound, site: SamplingSite) -> None:
    if round.status != TestRound.Status.OPEN:
        raise round_closed(round)
    if site.community_id != round.community_id:
        message = _("采样点“%(site)s”不属于本轮筛查的社区") % {"site": site.name}
        raise DomainError(message, code="site_elsewhere", fields={"site_id": message})
    if not site.active:
        message = _("采样点“%(site)s”已停用") % {"site": site.name}
        raise DomainError(message, code="site_inactive", fields={"site_id": message})


def moment(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def barcode_used(tube: Tube, *, field: str = "barcode") -> Conflict:
    used = Tube.objects.select_related("round", "site").get(pk=tube.pk)
    message = _("条码 %(barcode)s 已于 %(when)s 在“%(round)s”%(site)s开管使用,请换一支采样管") % {
        "barcode": used.barcode, "when": moment(used.opened_at), "round": used.round.name, "site": used.site.name}
    return Conflict(message, code="barcode_used", fields={field: message})


def new_tube(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    return Tube(round=round, community_id=round.community_id, site=site, barcode=barcode, pool_size=round.pool_size,
                opened_by=actor, opened_at=timezone.now())


def create_tube(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    tube = new_tube(actor, round, site, barcode)
    tube.save(force_insert=True)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=tube, fields=["barcode"])
    return tube


@transaction.atomic
def tube_open(*, actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    """Open a new tube at a site; a barcode is used once, in any round."""
    barcode = clean_barcode(barcode, field="barcode")
    ensure_in_scope(actor, round)
    require_site_of(round, site)
    require_sampler(actor, site)
    used = Tube.objects.filter(barcode=barcode).first()
    if used is not None:
        raise barcode_used(used)
    try:
        with transaction.atomic():
            return create_tube(actor, round, site, barcode)
    except IntegrityError:
        used = Tube.objects.filter(barcode=barcode).first()
        if used is None:
            raise
        raise barcode_used(used) from None


def locked_tube(pk: int) -> Tube:
    return Tube.objects.select_for_update(of=("self",)).select_related("round", "site").get(pk=pk)


def tube_closed(tube: Tube) -> DomainError:
    message = _("采样管 %(barcode)s 已封管,请扫描新的采样管") % {"barcode": tube.barcode}
    return DomainError(message, code="tube_closed", fields={"tube": message})


def close_at(actor, tube: Tube, at: datetime.datetime) -> None:
    """Close the tube as of `at`: the time its last person was swabbed, which a device syncing late still knows."""
    tube.status = Tube.Status.CLOSED
    tube.closed_at = at
    tube.save(update_fields=["sample_count", "status", "closed_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=tube, fields=["status"])


@transaction.atomic
def tube_close(*, actor, tube: Tube) -> Tube:
    """Close a tube by hand before it is full (the last people of a site, a door-to-door round)."""
    tube = locked_tube(tube.pk)
    require_sampler(actor, tube.site)
    if tube.status != Tube.Status.OPEN:
        raise Conflict(_("采样管 %(barcode)s 已封管") % {"barcode": tube.barcode}, code="tube_closed")
    if tube.sample_count == 0:
        raise DomainError(_("采样管中还没有人,不能封管"), code="tube_empty")
    close_at(actor, tube, timezone.now())
    return tube
