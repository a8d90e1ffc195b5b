"""Scoped reads of the people registry: lists, search, duplicate suspects, counts."""

import re

from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from fangkong.core.idnumbers import compact, normalize_text
from fangkong.core.scope import get_in_scope
from fangkong.people.models import ImportJob, Person, PersonTag, Tag
from fangkong.people.permissions import may_edit_registry
from fangkong.places.models import Household

_ADDRESS = re.compile(r"^(\w+?)(?:号楼|栋)?-(\w+?)(?:单元)?(?:-(\w+?)室?)?$")
_LAST4 = re.compile(r"^\d{3}[\dXx]$")
_FULL_RESIDENT_ID = re.compile(r"\d{17}[\dXx]")
_FULL_DOCUMENT = re.compile(r"[A-Za-z]\d{7,}")
_PARTIAL_NUMBER = re.compile(r"\d{5,}")
_FULL_PHONE = re.compile(r"1\d{10}")
_LATIN = re.compile(r"^[a-z]+$")


def persons_for(actor):
    return Person.objects.in_scope(actor)


def own_household_members(actor):
    """A resident's household as the resident sees it (their scope is that one household)."""
    return persons_for(actor).with_address().order_by("id")


def get_person_for(actor, pk) -> Person:
    return get_in_scope(persons_for(actor).with_address().with_tags(), pk)


def full_number_in(text: str) -> str:
    """The whole document number or mainland mobile number a search box text contains, or ''."""
    compacted = compact(normalize_text(text))
    match = _FULL_RESIDENT_ID.search(compacted) or _FULL_DOCUMENT.search(compacted) or _FULL_PHONE.fullmatch(compacted)
    return match.group(0).upper() if match else ""


def search_condition(text: str) -> Q:
    """What a search box text means: name, pinyin, last 4 digits, phone, full ID or '3-2-301'.

    Searching by a whole number is a lookup of someone's identity: callers go through
    people.services.person_search, which limits and audits it.

    A run of 5 or more digits that is neither a phone nor a whole document number finds nobody:
    ID numbers are not searchable by fragment, so the registry cannot be enumerated.
    """
    text = normalize_text(text)
    if not text:
        return Q()
    compacted = compact(text)
    if _FULL_PHONE.fullmatch(compacted):
        return Q(phone=compacted)
    full_number = full_number_in(compacted)
    if full_number:
        name = compacted.replace(full_number, "").replace(full_number.lower(), "")
        condition = Q(id_number=full_number)
        return condition & Q(name__contains=name) if name else condition
    if _LAST4.match(compacted):
        return Q(id_last4=compacted.upper()) | Q(phone_last4=compacted)
    if _PARTIAL_NUMBER.search(compacted):
        return Q(pk__in=[])
    address = _ADDRESS.match(compacted)
    if address:
        building, unit, room = address.groups()
        condition = Q(household__building__number=building, household__unit__number=unit)
        return condition & Q(household__room=room) if room else condition
    lowered = compacted.lower()
    if _LATIN.match(lowered):
        return Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    return Q(name__contains=text)


def search_persons(actor, text: str = "", *, tag: str = "", residency: str = "", grid_id=None, household_id=None):
    persons = (persons_for(actor).filter(search_condition(text))
               .narrowed(tags__tag=tag, residency=residency, household__grid_id=grid_id, household_id=household_id))
    return persons.with_address().with_tags().order_by("household__building__number", "household__unit__number",
                                                       "household__room", "id")


def ledger_persons(actor, community):
    """The community's persons as its ledger lists them: address and tags at hand."""
    return (persons_for(actor).filter(community=community)
            .select_related("household__compound", "household__building", "household__unit").prefetch_related("tags"))


def duplicate_suspects(actor) -> list[dict]:
    """Groups of records that may be one person: same name and phone, or same name and birth date.

    Two queries per rule, whatever the number of groups: the keys shared by several records,
    then every record carrying one of those keys.
    """
    persons = persons_for(actor)
    groups, seen = [], set()
    rules = ((("name", "phone"), persons.exclude(phone=""), _("姓名和手机号相同")),
             (("name", "birth_date"), persons.exclude(birth_date=None), _("姓名和出生日期相同")))
    for fields, candidates, reason in rules:
        shared = candidates.values_list(*fields).annotate(n=Count("id")).filter(n__gt=1).order_by(*fields)[:200]
        keys = [(name, other) for name, other, _count in shared]
        if not keys:
            continue
        members: dict[tuple, list] = {}
        wanted = set(keys)
        for person in candidates.filter(name__in={name for name, _other in keys}).with_address().order_by("id"):
            key = tuple(getattr(person, field) for field in fields)
            if key in wanted:
                members.setdefault(key, []).append(person)
        for key in keys:
            ids = tuple(p.id for p in members[key])
            if ids not in seen:
                seen.add(ids)
                groups.append({"reason": reason, "persons": members[key]})
    return groups


def scope_counts(actor) -> dict:
    """The home page's figures: households, persons and each tag, within the actor's scope."""
    persons = persons_for(actor)
    tag_counts = dict(PersonTag.objects.filter(person__in=persons.values("id")).values_list("tag")
                      .annotate(n=Count("id")).values_list("tag", "n"))
    return {
        "households": Household.objects.in_scope(actor).count(),
        "persons": persons.count(),
        "tags": [{"code": code, "label": label, "count": tag_counts.get(code, 0)} for code, label in Tag.choices],
    }


def get_import_job_for(actor, pk) -> ImportJob:
    """The job without the kept file itself (a page polls this every two seconds), but saying whether it
    has one. Only those who may edit the registry see import jobs (their reports name rows and people)."""
    if not may_edit_registry(actor):
        raise Http404
    jobs = (ImportJob.objects.in_scope(actor).select_related("community").defer("upload")
            .annotate(has_upload=Q(upload__isnull=False)))
    return get_in_scope(jobs, pk)
