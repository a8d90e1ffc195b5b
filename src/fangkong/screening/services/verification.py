"""Verification lists sent down from above (大数据核查): import and match, assign, answer row by row, export.

The file format (any column order, the answers appended on export) is `screening.lists`.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.core import audit
from fangkong.core.bulk import insert_rows
from fangkong.core.clock import aware
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.people.models import IdType, Person
from fangkong.places.models import Community, Grid, Street
from fangkong.screening import lists, queries
from fangkong.screening.models import Answer, MatchKind, VerificationBatch, VerificationItem
from fangkong.screening.permissions import require_list_manager, require_list_worker
from fangkong.screening.services.follow_ups import follow_up_set_facts

# Answers that establish facts about the matched person; 查无此人 establishes nothing.
_ANSWER_FACTS = {
    Answer.PRESENT_VERIFIED: {"reached": True, "verified": True, "left_community": False},
    Answer.LEFT: {"reached": True, "verified": True, "left_community": True},
    Answer.CONTROLLED: {"reached": True, "verified": True},
    Answer.NOT_FOUND: None,
}


def _list_chunk() -> int:
    """Values per IN (...): PostgreSQL takes many; SQLite's variable limit is lower."""
    return 10_000 if connection.vendor == "postgresql" else 900


def _chunks(values: list):
    size = _list_chunk()
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass(frozen=True)
class ListMatch:
    """Who a row is, how that was found, and where the row goes (community, grid)."""

    kind: str
    person_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None


def _list_scope(actor, community) -> tuple[Street, Community | None, list[int]]:
    """The street a batch belongs to, its community (None: the whole street) and the communities it matches in."""
    require_list_manager(actor)
    if community is None and not actor.is_superuser and actor.role == Role.COMMUNITY_STAFF:
        own = community_ids_in_scope(actor) or frozenset()
        if len(own) != 1:
            raise DomainError(_("请选择名单所属社区"), code="community_required", fields={"community": _("必填")})
        community = Community.objects.get(pk=next(iter(own)))
    if community is not None:
        ensure_in_scope(actor, community)
        whole = community_ids_in_scope(actor)
        if whole is not None and community.pk not in whole:
            raise NotAllowed(_("导入核查名单需要负责整个社区的账号"))
        return community.street, community, [community.pk]
    street = actor.scope_street if not actor.is_superuser else None
    if street is None:
        streets = list(Street.objects.all()[:2])
        if len(streets) != 1:
            raise DomainError(_("请选择名单所属社区"), code="community_required", fields={"community": _("必填")})
        street = streets[0]
    return street, None, list(Community.objects.filter(street=street).values_list("pk", flat=True))


def _list_deadline(received_at: datetime.datetime, deadline, hours) -> datetime.datetime:
    if deadline is None and hours is None:
        raise DomainError(_("请填写反馈时限"), code="deadline_required", fields={"hours": _("必填")})
    if deadline is None:
        if not 1 <= int(hours) <= 720:
            raise DomainError(_("反馈时限应为 1 到 720 小时"), code="bad_hours", fields={"hours": _("应为 1 到 720")})
        return received_at + datetime.timedelta(hours=int(hours))
    deadline = aware(deadline)
    if deadline <= received_at:
        raise DomainError(_("反馈时限必须晚于现在"), code="deadline_past", fields={"deadline": _("必须晚于现在")})
    return deadline


def _refuse_duplicate_list(street: Street, digest: str) -> None:
    earlier = VerificationBatch.objects.filter(street=street, content_hash=digest).first()
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        message = _("该名单已于 %(time)s 导入过(“%(title)s”),不能重复导入") % {"time": when, "title": earlier.title}
        raise Conflict(message, code="duplicate_list", fields={"file": message})


def _candidates_by(persons, field: str, values: set) -> dict:
    """Persons whose `field` is one of `values`, grouped by that value: one query per chunk of values."""
    found: dict = defaultdict(list)
    for chunk in _chunks(sorted(values)):
        for pk, value, community_id, grid_id in (persons.filter(**{f"{field}__in": chunk})
                                                  .values_list("pk", field, "community_id", "household__grid_id")):
            found[value].append((pk, community_id, grid_id))
    return found


def _name_birth_candidates(persons, wanted: set) -> dict:
    found: dict = defaultdict(list)
    names = {name for name, _birth in wanted}
    for chunk in _chunks(sorted(names)):
        rows = (persons.filter(name__in=chunk)
                .values_list("pk", "name", "birth_date", "community_id", "household__grid_id"))
        for pk, name, birth_date, community_id, grid_id in rows:
            if (name, birth_date) in wanted:
                found[(name, birth_date)].append((pk, community_id, grid_id))
    return found


def match_list_rows(community_ids: list[int], rows) -> list[ListMatch]:
    """Match rows (with .id_number, .phone, .name, .birth_date) against the persons of these communities.

    Set-based: one query per kind of key and chunk of values, never one per row. ID exact first;
    else the phone when exactly one person has it; else name and birth date when exactly one
    person has both. Several candidates and no single one → ambiguous. Persons of other
    communities are never candidates, so a list does not reveal who lives elsewhere.
    """
    persons = Person.objects.filter(community_id__in=community_ids)
    with_id = persons.filter(id_type=IdType.RESIDENT_ID)
    by_id = {number: found[0] for number, found in
             _candidates_by(with_id, "id_number", {row.id_number for row in rows if row.id_number}).items()}
    rest = [row for row in rows if row.id_number not in by_id]
    by_phone = _candidates_by(persons, "phone", {row.phone for row in rest if row.phone})
    rest = [row for row in rest if len(by_phone.get(row.phone, ())) != 1]
    by_name_birth = _name_birth_candidates(persons, {(row.name, row.birth_date) for row in rest
                                                     if row.name and row.birth_date})
    return [_resolve_match(row, by_id, by_phone, by_name_birth) for row in rows]


def _resolve_match(row, by_id: dict, by_phone: dict, by_name_birth: dict) -> ListMatch:
    if row.id_number in by_id:
        return ListMatch(MatchKind.ID_NUMBER, *by_id[row.id_number])
    ambiguous = False
    for kind, found in ((MatchKind.PHONE, by_phone.get(row.phone, ()) if row.phone else ()),
                        (MatchKind.NAME_BIRTH, by_name_birth.get((row.name, row.birth_date), ()))):
        if len(found) == 1:
            return ListMatch(kind, *found[0])
        ambiguous = ambiguous or len(found) > 1
    return ListMatch(MatchKind.AMBIGUOUS if ambiguous else MatchKind.NONE)


_ITEM_COLUMNS = ("batch_id", "line", "cells", "name", "id_number", "phone", "origin", "reason", "person_id",
                 "match_kind", "community_id", "grid_id", "answer", "answer_note", "answered_by_id", "answered_at")


def _insert_items(batch: VerificationBatch, rows: list[lists.ListRow], matches: list[ListMatch]) -> None:
    """Matched rows go to their person's community and grid; the others to the batch's queue."""
    insert_rows(VerificationItem, _ITEM_COLUMNS, [
        (batch.pk, row.line, row.cells, row.name, row.id_number, row.phone_text, row.origin, row.reason,
         match.person_id, match.kind, match.community_id if match.person_id else batch.community_id, match.grid_id,
         "", "", None, None)
        for row, match in zip(rows, matches, strict=True)])


def verification_batch_import(*, actor, file_name: str, data: bytes, title: str,
                              deadline: datetime.datetime | None = None, hours: int | None = None,
                              issued_by: str = "", community: Community | None = None) -> VerificationBatch:
    """Import a list sent down from above and match it against the registry: all rows or none.

    A community worker's list is matched within their community and its unmatched rows wait in
    that community's queue; a street's list is matched across the street's communities and its
    unmatched rows wait in the street's queue (community empty). The same file twice is refused.
    """
    street, community, community_ids = _list_scope(actor, community)
    title = normalize_text(title)[:200]
    if not title:
        raise DomainError(_("请填写名单名称"), code="title_required", fields={"title": _("必填")})
    received_at = timezone.now()
    deadline = _list_deadline(received_at, deadline, hours)
    digest = hashlib.sha256(data).hexdigest()
    _refuse_duplicate_list(street, digest)
    sheet = lists.read_list(file_name, data)
    rows = lists.list_rows(sheet)
    matches = match_list_rows(community_ids, rows)
    try:
        with transaction.atomic():
            batch = VerificationBatch.objects.create(
                street=street, community=community, title=title, issued_by=normalize_text(issued_by)[:100],
                file_name=file_name[:255], content_hash=digest, columns=sheet.columns, received_at=received_at,
                deadline=deadline, row_count=len(rows), created_by=actor if actor.pk else None)
            _insert_items(batch, rows, matches)
            matched = sum(1 for match in matches if match.person_id)
            audit.record(actor=actor, action=audit.Action.IMPORT, obj=batch, fields=sorted(sheet.positions),
                         object_repr=_("核查名单“%(t)s”:%(n)d 行,匹配 %(m)d 行") % {
                             "t": title, "n": len(rows), "m": matched})
    except IntegrityError:
        _refuse_duplicate_list(street, digest)
        raise
    return batch


def _batch_community_ids(batch: VerificationBatch) -> list[int]:
    if batch.community_id:
        return [batch.community_id]
    return list(Community.objects.filter(street_id=batch.street_id).values_list("pk", flat=True))


def _item_repr(item: VerificationItem) -> str:
    return _("%(t)s 第 %(line)d 行 %(name)s") % {"t": item.batch.title, "line": item.line, "name": item.name}


@transaction.atomic
def verification_item_answer(*, actor, item: VerificationItem, answer: str, note: str = "") -> VerificationItem:
    """Answer one row (again: the last answer, its author and time count); the matched person's facts follow."""
    require_list_worker(actor)
    ensure_in_scope(actor, item)
    if answer not in Answer.values:
        message = _("核查结果无效,应为:%(choices)s") % {"choices": "、".join(str(label) for label in Answer.labels)}
        raise DomainError(message, code="bad_answer", fields={"answer": _("取值不正确")})
    note = normalize_text(note)
    if len(note) > 300:
        raise DomainError(_("情况说明不能超过 300 字"), code="note_too_long", fields={"note": _("不能超过 300 字")})
    item = VerificationItem.objects.select_for_update(of=("self",)).select_related("batch", "person").get(pk=item.pk)
    item.answer, item.answer_note, item.answered_by, item.answered_at = answer, note, actor, timezone.now()
    item.save(update_fields=["answer", "answer_note", "answered_by", "answered_at"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item),
                 fields=["answer", "answer_note"], community_id=item.community_id)
    facts = _ANSWER_FACTS[Answer(answer)]
    if facts and item.person is not None:
        reason = _("核查名单“%(t)s”:%(a)s") % {"t": item.batch.title, "a": Answer(answer).label}
        follow_up_set_facts(actor=actor, person=item.person, reason=reason, **facts)
    return item


@transaction.atomic
def verification_item_reassign(*, actor, item: VerificationItem, grid: Grid) -> VerificationItem:
    """Send a row to a grid (from the queue, or from the wrong grid): within the row's community, or the batch's."""
    require_list_manager(actor)
    ensure_in_scope(actor, item)
    ensure_in_scope(actor, grid)
    allowed = [item.community_id] if item.community_id else _batch_community_ids(item.batch)
    if grid.community_id not in allowed:
        raise DomainError(_("只能分派到该名单行所属社区的网格"), code="bad_grid", fields={"grid": _("不在名单范围内")})
    item.grid, item.community_id = grid, grid.community_id
    item.save(update_fields=["grid", "community"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item), fields=["grid"],
                 community_id=item.community_id)
    return item


@transaction.atomic
def verification_item_match(*, actor, item: VerificationItem, person: Person) -> VerificationItem:
    """Tie a row to a person by hand (after an ambiguous or failed match); the row follows them to their grid."""
    require_list_manager(actor)
    ensure_in_scope(actor, item)
    ensure_in_scope(actor, person)
    if person.community_id not in _batch_community_ids(item.batch):
        raise DomainError(_("该人员不在这份名单的核查范围内"), code="bad_person",
                          fields={"person": _("不在名单范围内")})
    item.person, item.community_id, item.match_kind = person, person.community_id, MatchKind.MANUAL
    item.grid_id = person.household.grid_id if person.household_id else None
    item.save(update_fields=["person", "community", "grid", "match_kind"])
    audit.record(actor=actor, action=audit.Action.UPDATE, obj=item, object_repr=_item_repr(item),
                 fields=["person", "grid"], community_id=item.community_id)
    return item


def _export_row(item: VerificationItem, width: int) -> list[str]:
    answered_at = timezone.localtime(item.answered_at).strftime("%Y-%m-%d %H:%M") if item.answered_at else ""
    return [*item.cells[:width], *[""] * (width - len(item.cells)),
            str(Answer(item.answer).label) if item.answer else "", item.answer_note,
            str(item.answered_by) if item.answered_by else "", answered_at, str(item.get_match_kind_display()),
            item.grid.name if item.grid else ""]


def verification_batch_export(*, actor, batch: VerificationBatch, fmt: str = "xlsx") -> bytes:
    """The list in the layout it came in, each row followed by its answer.

    ID numbers and phones go out as received, not masked: the list came from above with full
    values and goes back to its sender, who ties each answer to a person by them. So only the
    roles that may see full values export it, each sees only the rows of their scope, and every
    export is written to the audit log.
    """
    require_list_worker(actor)
    if not queries.batches_for(actor).filter(pk=batch.pk).exists():
        raise Http404
    if fmt not in {"xlsx", "csv"}:
        raise DomainError(_("导出格式只能是 xlsx 或 csv"), code="format", fields={"fmt": _("格式不支持")})
    items = (VerificationItem.objects.in_scope(actor).filter(batch=batch)
             .select_related("answered_by", "grid").order_by("line"))
    width = len(batch.columns)
    with translation.override(None):
        rows = [_export_row(item, width) for item in items.iterator(chunk_size=2000)]
        header = [*batch.columns, *lists.ANSWER_COLUMNS]
    content = lists.write_list(header, rows, file_format=fmt)
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=batch, fields=["answer", "cells"],
                 object_repr=_("核查名单“%(t)s”:导出 %(n)d 行") % {"t": batch.title, "n": len(rows)},
                 community_id=batch.community_id)
    return content
