"""One person swabbed into a tube: by the scanner page, or by a site device (in one statement on PostgreSQL)."""

import datetime
import uuid
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.scope import staff_scope_params
from fangkong.core import audit, rawsql
from fangkong.core.client_ids import clean_client_id
from fangkong.core.clock import not_later_than_now, parse_moment
from fangkong.core.errors import Conflict, DomainError, NotInScope, lookup
from fangkong.core.roles import is_staff_member
from fangkong.core.scope import ensure_in_scope
from fangkong.people.models import IdType, Person
from fangkong.testing import queries
from fangkong.testing.models import ResampleTask, Sample, SamplingSite, TestRound, Tube
from fangkong.testing.permissions import is_sampler_anywhere, require_sampler
from fangkong.testing.scans import person_named, unknown_person
from fangkong.testing.services.tubes import (
    barcode_used,
    clean_barcode,
    close_at,
    create_tube,
    locked_tube,
    moment,
    require_site_of,
    round_closed,
    tube_closed,
)


def clean_taken_at(taken_at, now: datetime.datetime | None = None) -> datetime.datetime:
    """The swab's time: as sent (a datetime or its ISO text), or `now` (by default the present moment) when none
    was sent; never further ahead than the clock skew allowed."""
    label = _("采样时间")
    return not_later_than_now(parse_moment(taken_at, field="taken_at", label=label), field="taken_at", label=label,
                              now=now)


def _stored_sample(actor, client_id: uuid.UUID) -> Sample | None:
    stored = Sample.objects.filter(client_id=client_id).select_related("tube", "person").first()
    if stored is not None:
        ensure_in_scope(actor, stored)
    return stored


def _already_sampled(round_id: int, person: Person) -> DomainError:
    first = (Sample.objects.filter(round_id=round_id, person=person, void=False, resample=False)
             .select_related("site").order_by("taken_at").first())
    message = _("%(name)s 本轮已于 %(when)s 在%(site)s采样,不能重复采样") % {
        "name": person.name, "when": moment(first.taken_at), "site": first.site.name}
    return Conflict(message, code="already_sampled", fields={"code": message})


def _count_one_more(actor, tube: Tube, taken_at: datetime.datetime) -> None:
    tube.sample_count += 1
    if tube.sample_count >= tube.pool_size:
        close_at(actor, tube, taken_at)
    else:
        tube.save(update_fields=["sample_count"])


def _sample_into(actor, tube: Tube, person: Person, client_id: uuid.UUID, taken_at, door_to_door: bool) -> Sample:
    """Swab one person into a locked tube; the partial unique constraint is the last word on a second sample."""
    if tube.status != Tube.Status.OPEN:
        raise tube_closed(tube)
    if tube.round.status != TestRound.Status.OPEN:
        raise round_closed(tube.round)
    if person.community_id != tube.community_id:
        raise unknown_person()
    task = None
    if tube.pool_size == 1:
        task = ResampleTask.objects.filter(round_id=tube.round_id, person=person,
                                           status=ResampleTask.Status.OPEN).first()
    sample = Sample(round_id=tube.round_id, tube=tube, community_id=tube.community_id, person=person,
                    household_id=person.household_id, site_id=tube.site_id, sampler=actor,
                    taken_at=clean_taken_at(taken_at), door_to_door=bool(door_to_door), resample=task is not None,
                    client_id=client_id)
    try:
        with transaction.atomic():
            sample.save(force_insert=True)
    except IntegrityError:
        twin = Sample.objects.filter(client_id=client_id).select_related("tube", "person").first()
        if twin is not None:
            return twin
        raise _already_sampled(tube.round_id, person) from None
    _count_one_more(actor, tube, sample.taken_at)
    if task is not None:
        ResampleTask.objects.filter(pk=task.pk).update(status=ResampleTask.Status.DONE, sample=sample,
                                                       updated_at=timezone.now())
    return sample


def sample_add(*, actor, tube: Tube, person: Person, client_id, taken_at=None, door_to_door: bool = False) -> Sample:
    """Add one person to an open tube; the same client_id again returns the stored sample and stores nothing.

    The tube row is locked while counting, so two samplers at one tube never push it past its pool
    size; it closes itself at the pool size. Samples are not audited one by one (volume).
    """
    client_id = clean_client_id(client_id)
    stored = _stored_sample(actor, client_id)
    if stored is not None:
        return stored
    with transaction.atomic():
        tube = locked_tube(tube.pk)
        require_sampler(actor, tube.site)
        return _sample_into(actor, tube, person, client_id, taken_at, door_to_door)


def _tube_for_registration(actor, round: TestRound, site: SamplingSite, barcode: str) -> Tube:
    """The open tube of this barcode at this site, locked; a new barcode opens a tube."""
    lock = Tube.objects.select_for_update(of=("self",))
    tube = lock.filter(barcode=barcode).first()
    if tube is None:
        try:
            with transaction.atomic():
                tube = create_tube(actor, round, site, barcode)
        except IntegrityError:
            tube = lock.get(barcode=barcode)
    if tube.round_id != round.pk or tube.site_id != site.pk:
        raise barcode_used(tube, field="tube")
    tube.round, tube.site = round, site
    return tube


@cache
def _registration_statement(by: str) -> str:
    """Register one person into a pooled tube of the round and site, only when `queries.registration_facts_sql`
    finds the registration plainly allowed: count them into the open tube of this barcode if it has room,
    or open the tube of a barcode never used with them in it; store their sample; audit the tube opened or
    closed. One statement, so one round trip and its own transaction, answering one row or none.

    Two devices opening one new barcode at once: the second breaks the barcode's unique constraint and stores nothing.
    """
    table = rawsql.table(Tube)
    t = {name: rawsql.column(Tube, name) for name in (
        "id", "round", "community", "site", "barcode", "pool_size", "sample_count", "status", "result", "opened_by",
        "opened_at", "closed_at")}
    sample_columns = ", ".join(rawsql.column(Sample, n) for n in (
        "round", "tube", "community", "person", "household", "site", "sampler", "taken_at", "door_to_door",
        "resample", "void", "client_id", "created_at"))
    opened_columns = ", ".join(t[n] for n in ("round", "community", "site", "barcode", "pool_size", "sample_count",
                                              "status", "result", "opened_by", "opened_at"))
    full = f"tube.{t['sample_count']} + 1 >= tube.{t['pool_size']}"
    audited = {event: audit.insert_select_sql(event=event, object_id=f"CAST(tube.{t['id']} AS text)",
                                              community="facts.community_id", source=f"facts, {source}")
               for event, source in (("opened", "opened tube"),
                                     ("closed", f"counted tube WHERE tube.{t['status']} = %(closed)s"))}
    return (f"WITH facts AS ({queries.registration_facts_sql(by)}),"
            f" counted AS (UPDATE {table} tube SET {t['sample_count']} = tube.{t['sample_count']} + 1,"
            f" {t['status']} = CASE WHEN {full} THEN %(closed)s ELSE tube.{t['status']} END,"
            f" {t['closed_at']} = CASE WHEN {full} THEN %(taken_at)s ELSE tube.{t['closed_at']} END"
            f" FROM facts WHERE tube.{t['barcode']} = %(barcode)s AND tube.{t['round']} = facts.round_id"
            f" AND tube.{t['site']} = %(site)s AND tube.{t['status']} = %(open)s"
            f" AND tube.{t['sample_count']} < tube.{t['pool_size']} AND tube.{t['pool_size']} > 1"
            f" RETURNING tube.{t['id']}, tube.{t['status']}, tube.{t['sample_count']}),"
            f" opened AS (INSERT INTO {table} ({opened_columns})"
            f" SELECT facts.round_id, facts.community_id, %(site)s, %(barcode)s, facts.pool_size, 1, %(open)s, '',"
            f" %(sampler)s, %(created_at)s FROM facts WHERE facts.pool_size > 1"
            f" AND NOT EXISTS (SELECT 1 FROM {table} used WHERE used.{t['barcode']} = %(barcode)s)"
            f" RETURNING {t['id']}, {t['status']}, {t['sample_count']}),"
            f" filled AS (SELECT * FROM counted UNION ALL SELECT * FROM opened),"
            f" stored AS (INSERT INTO {rawsql.table(Sample)} ({sample_columns})"
            f" SELECT facts.round_id, tube.{t['id']}, facts.community_id, facts.person_id, facts.household_id,"
            f" %(site)s, %(sampler)s, %(taken_at)s, %(door_to_door)s, false, false, %(client_id)s, %(created_at)s"
            f" FROM facts, filled tube RETURNING {rawsql.column(Sample, 'id')}),"
            f" audited_opened AS ({audited['opened']}), audited_closed AS ({audited['closed']})"
            f" SELECT facts.round_id, facts.community_id, facts.pool_size, facts.person_id, facts.household_id,"
            f" facts.person_name, tube.{t['id']}, tube.{t['status']}, tube.{t['sample_count']},"
            f" stored.{rawsql.column(Sample, 'id')} FROM facts, filled tube, stored")


def _registered_in_one_statement(params: dict, by: str) -> tuple | None:
    """The statement's row, or None when the facts did not hold or a unique constraint refused the sample
    (a second sample in the round, a replayed client_id): nothing is then stored."""
    try:
        return rawsql.fetch_one_alone(_registration_statement(by), params)
    except IntegrityError:
        return None


def _person_named_at_once(code: str, id_number: str, person_id) -> tuple[str, int | str, int | None] | None:
    """How `registration_facts_sql` should find the person ("id" or "id_number"), the value, and the community a
    personal code names; None when only the full path can say (a damaged code, a malformed ID number)."""
    try:
        kind, value, code_community = person_named(person_id, code, id_number)
    except DomainError:
        return None
    return ("id" if kind == "pk" else "id_number"), value, code_community


def _cleaned_at_once(barcode, client_id, taken_at) -> tuple | None:
    try:
        return clean_barcode(barcode, field="tube"), clean_client_id(client_id), clean_taken_at(taken_at)
    except DomainError:
        return None


def sample_register_at_once(*, actor, round_id: int, site_id: int, barcode: str, client_id, code: str = "",
                            id_number: str = "", person_id: int | None = None, taken_at=None,
                            door_to_door: bool = False) -> Sample | None:
    """The everyday device registration, one more person into a pooled tube, in one statement on PostgreSQL.

    A busy site registers a swab every second per table, and the ORM's lookups and a transaction's round
    trips cost more than the writes. `_registration_statement` checks the facts, the scope and the tube's
    rules, stores the sample and counts it into its tube (opening the tube of a new barcode). This returns
    None, having stored nothing, whenever anything is unusual (a retry, a refusal, a barcode used elsewhere,
    an actor whose scope does not hold the whole community) or the database is SQLite: the caller
    (`sample_register_from_device`) then takes `sample_register`, which decides and explains.
    """
    cleaned = _cleaned_at_once(barcode, client_id, taken_at)
    naming = _person_named_at_once(code, id_number, person_id)
    if (connection.vendor != "postgresql" or cleaned is None or naming is None or not is_staff_member(actor)
            or not is_sampler_anywhere(actor)):
        return None
    (by, person, code_community), (barcode, client_id, taken_at) = naming, cleaned
    params = {"round": round_id, "site": site_id, "person": person, "id_type": IdType.RESIDENT_ID,
              "code_community": code_community, "open_round": TestRound.Status.OPEN, **staff_scope_params(actor),
              "barcode": barcode, "open": Tube.Status.OPEN, "closed": Tube.Status.CLOSED, "sampler": actor.pk,
              "taken_at": taken_at, "door_to_door": bool(door_to_door), "client_id": client_id,
              "created_at": timezone.now(),
              **audit.insert_select_params(actor=actor, object_type="tube", object_repr=barcode, events={
                  "opened": (audit.Action.CREATE, ["barcode"]), "closed": (audit.Action.UPDATE, ["status"])})}
    row = _registered_in_one_statement(params, by)
    if row is None:
        return None
    return _registered_sample(actor, row, site_id, barcode, client_id, taken_at, door_to_door)


def _registered_sample(actor, row: tuple, site_id: int, barcode: str, client_id, taken_at, door_to_door) -> Sample:
    round_id, community_id, pool_size, person_id, household_id, person_name, tube_id, status, count, pk = row
    tube = Tube(pk=tube_id, round_id=round_id, community_id=community_id, site_id=site_id, barcode=barcode,
                pool_size=pool_size, sample_count=count, status=status,
                closed_at=taken_at if status == Tube.Status.CLOSED else None)
    person = Person(pk=person_id, community_id=community_id, household_id=household_id, name=person_name)
    return Sample(pk=pk, round_id=round_id, tube=tube, community_id=community_id, person=person,
                  household_id=household_id, site_id=site_id, sampler=actor, taken_at=taken_at,
                  door_to_door=bool(door_to_door), resample=False, client_id=client_id)


def sample_register(*, actor, round: TestRound, site: SamplingSite, barcode: str, person: Person, client_id,
                    taken_at=None, door_to_door: bool = False) -> Sample:
    """One registration from a device: the tube by barcode (opened when new), then `sample_add`'s rules.

    `round` and `site` come from scoped lookups; a retry with the same client_id returns the stored sample.
    """
    client_id = clean_client_id(client_id)
    stored = _stored_sample(actor, client_id)
    if stored is not None:
        return stored
    barcode = clean_barcode(barcode, field="tube")
    require_site_of(round, site)
    require_sampler(actor, site)
    with transaction.atomic():
        tube = _tube_for_registration(actor, round, site, barcode)
        return _sample_into(actor, tube, person, client_id, taken_at, door_to_door)


def sample_register_from_device(*, actor, round_id, site_id, barcode: str, client_id, code: str | None = "",
                                id_number: str | None = "", person_id=None, taken_at=None,
                                door_to_door: bool = False) -> Sample:
    """A site device's registration (POST /api/v1/samples): round, site and person named by id or code.

    The everyday one is stored by `sample_register_at_once`, with no lookup before it; whatever that
    steps aside from goes through the scoped lookups and `sample_register`, which decides and explains.
    A round or site the actor does not see, or a person_id of another community, is a 404 naming the field.
    """
    code, id_number = code or "", id_number or ""
    sample = sample_register_at_once(actor=actor, round_id=round_id, site_id=site_id, barcode=barcode,
                                     client_id=client_id, code=code, id_number=id_number, person_id=person_id,
                                     taken_at=taken_at, door_to_door=door_to_door)
    if sample is not None:
        return sample
    round = lookup(queries.get_sampling_round_for, actor, round_id, "round_id")
    try:
        site = queries.get_round_site_for(round, site_id)
    except Http404:
        raise NotInScope("site_id") from None
    person = _device_person(actor, round, code=code, id_number=id_number, person_id=person_id)
    return sample_register(actor=actor, round=round, site=site, barcode=barcode, person=person, client_id=client_id,
                           taken_at=taken_at, door_to_door=door_to_door)


def _device_person(actor, round: TestRound, *, code: str, id_number: str, person_id) -> Person:
    """The person a device names: a person id of the round's community, a personal code or an ID number."""
    if person_id is not None:
        try:
            return queries.get_round_person(round, person_id)
        except Http404:
            raise NotInScope("person_id") from None
    if not (code or id_number):
        message = _("请提供个人码 code、身份证号 id_number 或 person_id")
        raise DomainError(message, fields={"code": message})
    return queries.person_for_scan(actor, round, code or id_number)


@transaction.atomic
def sample_undo_last(*, actor, tube: Tube) -> Sample:
    """Take back this sampler's last person in an open tube (a wrong scan); the tube has room again."""
    tube = locked_tube(tube.pk)
    require_sampler(actor, tube.site)
    if tube.status != Tube.Status.OPEN:
        raise Conflict(_("采样管 %(barcode)s 已封管,不能撤销") % {"barcode": tube.barcode}, code="tube_closed")
    last = tube.samples.filter(sampler=actor).select_related("person").order_by("-id").first()
    if last is None:
        raise DomainError(_("这支采样管里没有您采的人"), code="nothing_to_undo")
    if last.resample:
        ResampleTask.objects.filter(sample=last).update(status=ResampleTask.Status.OPEN, sample=None,
                                                        updated_at=timezone.now())
    audit.record(actor=actor, action=audit.Action.DELETE, obj=last, object_repr=f"{tube.barcode} {last.person.name}",
                 fields=["person"])
    last.delete()
    tube.sample_count -= 1
    tube.save(update_fields=["sample_count"])
    return last
