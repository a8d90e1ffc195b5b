"""Every write to the people registry, each audited."""

import hashlib
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.core import audit, throttle
from fangkong.core.errors import Conflict, DomainError, NotAllowed, RateLimited
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.people import ledger, queries
from fangkong.people.care import care_tasks_follow_people
from fangkong.people.ledger_import import (  # noqa: F401  (re-exported: callers use services.ledger_import)
    LEDGER_CHUNK,
    PREVIEW_KEPT,
    LedgerProblem,
    LedgerReport,
    ledger_import,
    ledger_import_job_commit,
    ledger_import_job_start,
)
from fangkong.people.models import VULNERABLE_TAGS, IdType, Person, PersonTag, Residency, Sex, Tag
from fangkong.people.permissions import (
    may_edit_registry,
    may_export_full_values,
    may_reveal_full_values,
    require_registry_editor,
)
from fangkong.people.person_data import (  # noqa: F401  (re-exported for the apps that register persons)
    PERSON_FIELDS,
    PersonData,
    apply_person_data,
    clean_person_data,
    stored_person_values,
)
from fangkong.places.models import Community


def check_household(actor, community, household) -> None:
    """A person is placed in a household of the actor's scope; one without a household (a
    visitor, someone just arrived) belongs to the whole community, so only staff holding the
    whole community may register or leave one so."""
    if household is None:
        ensure_in_scope(actor, community)
        communities = community_ids_in_scope(actor)
        if communities is not None and community.id not in communities:
            message = _("请选择所在的户:网格账号只能登记本网格内有住址的人员")
            raise DomainError(message, code="household_required", fields={"household": message})
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


def follow_care(*, actor, tags, households) -> None:
    """Someone with one of these tags moved or was (un)tagged: the zones around those homes resync their checks.

    Most registry edits concern nobody the zones look in on, and cost nothing here.
    """
    if set(tags) & set(VULNERABLE_TAGS):
        care_tasks_follow_people(actor=actor, households=households)


@transaction.atomic
def person_create(*, actor, community, household=None, **values) -> Person:
    require_registry_editor(actor)
    return person_register(actor=actor, community=community, household=household, data=clean_person_data(**values))


@transaction.atomic
def person_register(*, actor, community, household, data: PersonData) -> Person:
    """A new person from cleaned data, in a household of the actor's scope (or none), audited.

    For flows whose own rule lets the actor register someone without editing the registry
    (a medic adding a case's close contact); everyone else goes through person_create.
    """
    check_household(actor, community, household)
    person = Person(community=community, household=household)
    apply_person_data(person, data)
    _save_person(person)
    _set_tags(person, data.tags)
    audit.record(actor=actor, action=audit.Action.CREATE, obj=person, fields=[*PERSON_FIELDS, "tags"])
    follow_care(actor=actor, tags=data.tags, households=[household])
    return person


@transaction.atomic
def person_update(*, actor, person: Person, household=None, **values) -> Person:
    require_registry_editor(actor)
    ensure_in_scope(actor, person)
    check_household(actor, person.community, household)
    data = clean_person_data(**values)
    changed = apply_person_data(person, data)
    previous_household = person.household
    if household != previous_household:
        person.household = household
        changed.append("household")
    if changed:
        _save_person(person)
    tags_before = person.tag_codes()
    if _set_tags(person, data.tags):
        changed.append("tags")
    if changed:
        audit.record(actor=actor, action=audit.Action.UPDATE, obj=person, fields=changed)
    if {"household", "tags"} & set(changed):
        follow_care(actor=actor, tags=[*tags_before, *data.tags], households=[previous_household, household])
    return person


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    require_registry_editor(actor)
    ensure_in_scope(actor, person)
    audit.record(actor=actor, action=audit.Action.DELETE, obj=person, fields=list(PERSON_FIELDS))
    try:
        person.delete()
    except ProtectedError:
        raise Conflict(_("%(p)s 已有病例、转运或采样等记录,不能删除;重复登记请用合并") % {"p": person},
                       code="person_in_use") from None


def person_reveal(*, actor, person: Person) -> Person:
    """The explicit, logged action that shows a person's full ID number and phone."""
    ensure_in_scope(actor, person)
    if not may_reveal_full_values(actor):
        raise NotAllowed(_("您的角色不能查看完整证件号和手机号"))
    audit.record(actor=actor, action=audit.Action.REVEAL, obj=person, fields=["id_number", "phone"])
    return person


def _guard_identity_lookup(actor, number: str) -> None:
    """Looking someone up by a whole ID or phone number is limited per account and audited.

    A health-code system leaked test results to anyone who typed a name and an ID; here such
    lookups are counted (the same number again within the window counts once, so a live
    search re-rendering is not penalised) and refused beyond the limit.
    """
    window = settings.FULL_ID_SEARCH_WINDOW_SECONDS
    digest = hashlib.sha256(f"{actor.pk}:{number}".encode()).hexdigest()[:32]
    if not throttle.hits(f"full-id-seen:{digest}", window):
        if throttle.hit(f"full-id-search:{actor.pk}", window) > settings.FULL_ID_SEARCH_LIMIT:
            raise RateLimited(_("按完整证件号或手机号查询过于频繁,请稍后再试"))
        throttle.hit(f"full-id-seen:{digest}", window)
    field = "phone" if number.isdigit() and len(number) == 11 else "id_number"
    audit.record(actor=actor, action=audit.Action.SEARCH_FULL_ID, object_type="person",
                 object_repr=_("按完整证件号或手机号查询"), fields=[field], community_id=_single_community_of(actor))


def _single_community_of(actor) -> int | None:
    """The community an event belongs to when the actor holds exactly one (so its staff see it)."""
    communities = community_ids_in_scope(actor)
    return next(iter(communities)) if communities is not None and len(communities) == 1 else None


def person_search(*, actor, text: str = "", **filters):
    """The registry search of the console and the API (see people.queries.search_persons)."""
    number = queries.full_number_in(text)
    if number:
        _guard_identity_lookup(actor, number)
    return queries.search_persons(actor, text, **filters)


@transaction.atomic
def person_patch(*, actor, person: Person, changes: dict) -> Person:
    """Change only the given fields; a field given as None is cleared. 'household' may be among them."""
    values = {field: getattr(person, field) for field in ("name", "id_type", "id_number", "phone", "relationship",
                                                          "residency", "notes")}
    values["tags"] = person.tag_codes()
    if changes.get("id_type", person.id_type) != IdType.RESIDENT_ID:
        values.update(sex=person.sex, birth_date=person.birth_date)
    blanks = {"tags": [], "birth_date": None, "household": None}
    values.update({field: blanks.get(field, "") if value is None else value for field, value in changes.items()})
    household = values.pop("household", person.household)
    return person_update(actor=actor, person=person, household=household, **values)


def _move_related_rows(duplicate: Person, keep: Person) -> list[str]:
    """Point every row that references the duplicate at the kept person instead.

    Where both records have a row that may exist once per person (a contact of the same case, a
    sample in the same round, a care task in the same zone), nothing is merged: staff decide which
    row is right before merging.
    """
    moved = []
    for relation in Person._meta.get_fields(include_hidden=True):
        if (not relation.auto_created or relation.concrete or relation.many_to_many
                or relation.related_model is PersonTag):
            continue
        try:
            with transaction.atomic():
                count = relation.related_model._base_manager.filter(**{relation.field.name: duplicate}).update(
                    **{relation.field.name: keep})
        except IntegrityError:
            what = relation.related_model._meta.verbose_name
            message = _("两条记录都有“%(what)s”且不能并存,请先处理其中一条再合并") % {"what": what}
            raise Conflict(message, code="merge_clash", fields={"duplicate": message}) from None
        if count:
            moved.append(f"{relation.related_model._meta.model_name}:{count}")
    return moved


@transaction.atomic
def person_merge(*, actor, keep: Person, duplicate: Person) -> Person:
    """Merge a duplicate record into the one kept: everything it owns moves, it is deleted.

    Empty fields of the kept record are filled from the duplicate; tags are united.
    """
    require_registry_editor(actor)
    if keep.pk == duplicate.pk:
        raise DomainError(_("不能将人员与自己合并"), fields={"duplicate": _("请选择另一条记录")})
    keep = Person.objects.select_for_update().get(pk=keep.pk)
    ensure_in_scope(actor, keep)
    ensure_in_scope(actor, duplicate)
    if keep.community_id != duplicate.community_id:
        message = _("两条记录属于不同社区,不能合并;请先由社区核实此人住在哪里")
        raise DomainError(message, code="different_communities", fields={"duplicate": message})
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
    audit.record(actor=actor, action=audit.Action.DELETE, obj=duplicate,
                 object_repr=_("%(p)s(合并到 #%(k)d)") % {"p": duplicate, "k": keep.pk}, fields=list(PERSON_FIELDS))
    households = [keep.household, duplicate.household]
    duplicate.delete()
    keep.save()
    follow_care(actor=actor, tags=tags, households=households)
    return keep


# Ledger export (人口台账); the import is people.ledger_import ----------------------------------


def _natural_key(text: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


def _ledger_row(person: Person, full: bool) -> list[str]:
    household = person.household
    address = (["", "", "", ""] if household is None else
               [household.compound.name, household.building.number, household.unit.number, household.room])
    tags = "、".join(str(Tag(t.tag).label) for t in sorted(person.tags.all(), key=lambda t: t.tag))
    return [*address, person.name, str(IdType(person.id_type).label),
            person.id_number if full else mask_id_number(person.id_number),
            str(Sex(person.sex).label) if person.sex else "",
            person.birth_date.isoformat() if person.birth_date else "",
            person.phone if full else mask_phone(person.phone),
            person.relationship, str(Residency(person.residency).label), tags, person.notes]


def ledger_export(*, actor, community: Community, file_format: str = "xlsx") -> tuple[bytes, str]:
    """The community's ledger in the import layout; ID numbers and phones masked unless the role may export them."""
    if not may_edit_registry(actor):
        raise NotAllowed(_("您的角色不能导出人口台账"))
    ensure_in_scope(actor, community)
    if file_format not in {"xlsx", "csv"}:
        raise DomainError(_("导出格式只能是 xlsx 或 csv"), fields={"file_format": _("格式不支持")})
    full = may_export_full_values(actor)
    with translation.override(None):
        rows = [_ledger_row(person, full)
                for person in queries.ledger_persons(actor, community).iterator(chunk_size=LEDGER_CHUNK)]
    rows.sort(key=lambda row: (row[0] == "", *(_natural_key(value) for value in row[:4]), row[6]))
    content = ledger.write_ledger(rows, file_format=file_format, title=_("%(c)s人口台账") % {"c": community.name})
    audit.record(actor=actor, action=audit.Action.EXPORT, obj=community,
                 object_repr=_("人口台账 %(n)d 人(%(k)s)") % {"n": len(rows), "k": _("完整") if full else _("脱敏")},
                 fields=list(ledger.EXPORT_FIELDS), community_id=community.id)
    return content, f"{community.name}人口台账-{timezone.localdate():%Y%m%d}.{file_format}"
