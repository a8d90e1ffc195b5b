"""Importing a community's population ledger (人口台账): all rows or none, each change audited.

The file format is people.ledger's; this module validates the rows, compares them with the
registry and writes the differences. An import runs as an ImportJob that shows its progress.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import audit, throttle
from fangkong.core.bulk import insert_rows
from fangkong.core.errors import DomainError, NotAllowed, RateLimited
from fangkong.core.idnumbers import normalize_text
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.core.jobs import Progress, job_enqueue, job_origin
from fangkong.people import ledger
from fangkong.people.models import IdType, ImportJob, Person, PersonTag, Residency, Sex, Tag
from fangkong.people.names import pinyin_keys
from fangkong.people.permissions import require_registry_editor
from fangkong.people.person_data import PERSON_FIELDS, STORED_FIELDS, PersonData, clean_person_data, stored_person_values
from fangkong.places.models import Building, Community, Compound, Household, Unit
from fangkong.places.services import normalize_building_number, normalize_room, normalize_unit_number
from fangkong.zones.services import care_tasks_follow_community

LEDGER_CHUNK = 2000
LEDGER_PROGRESS_EVERY = 1000
_TAG_SEPARATORS = re.compile(r"[、,;/\s]+")
_DATE_PARTS = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})\D?$")
_TAG_SYNONYMS = {"独居": Tag.ELDERLY_ALONE, "独居老人": Tag.ELDERLY_ALONE, "慢病": Tag.CHRONIC_SEVERE,
                 "重症": Tag.CHRONIC_SEVERE, "重症慢病": Tag.CHRONIC_SEVERE, "孕妇": Tag.PREGNANT, "孕产妇": Tag.PREGNANT,
                 "残疾": Tag.DISABLED, "保洁": Tag.KEY_WORKER, "保安": Tag.KEY_WORKER, "保供": Tag.KEY_WORKER,
                 "大学生": Tag.RETURNING_STUDENT, "卧床": Tag.IMMOBILE, "失能": Tag.IMMOBILE, "婴儿": Tag.INFANT,
                 "医护": Tag.MEDICAL_WORKER, "困难": Tag.HARDSHIP}
_RESIDENCY_SYNONYMS = {"户籍人口": Residency.REGISTERED, "常住人口": Residency.RESIDENT, "流动人口": Residency.FLOATING,
                       "暂住": Residency.FLOATING, "外来": Residency.FLOATING, "来访": Residency.VISITOR,
                       "访客": Residency.VISITOR}
_ID_TYPE_SYNONYMS = {"身份证": IdType.RESIDENT_ID, "港澳通行证": IdType.HK_MACAO_PERMIT,
                     "台胞证": IdType.TAIWAN_PERMIT, "居住证": IdType.HMT_RESIDENCE_PERMIT}
_SEX_WORDS = {"男": Sex.MALE, "女": Sex.FEMALE, "M": Sex.MALE, "F": Sex.FEMALE}
_FREE_TEXT_FIELDS = ("name", "relationship", "notes")


@dataclass
class LedgerProblem:
    line: int  # the row number the user sees in the spreadsheet
    field: str  # the column header as the file names it
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class LedgerReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    problems: list[LedgerProblem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


@dataclass
class _LedgerEntry:
    """One valid row: the person's values and, when the file has address columns, the address."""

    line: int
    data: PersonData
    address: tuple[str, str, str, str] | None  # compound name ("" when absent), building, unit, room


@dataclass
class _LedgerUpdate:
    person: Person
    data: PersonData
    changed: list[str]
    household: object  # an id, a key of a household to create, or None
    tags_changed: bool


@dataclass
class _LedgerPlan:
    creates: list[tuple[_LedgerEntry, object]] = field(default_factory=list)
    updates: list["_LedgerUpdate"] = field(default_factory=list)
    new_households: dict[tuple, dict] = field(default_factory=dict)


def _words(choices, synonyms: dict) -> dict[str, str]:
    """Chinese label (and code) → code. Labels are the source strings, whatever the active language."""
    with translation.override(None):
        words = {str(label): code for code, label in choices}
    return {**words, **{code: code for code, _label in choices}, **synonyms}


def _ledger_words() -> dict[str, dict[str, str]]:
    return {"tags": _words(Tag.choices, _TAG_SYNONYMS), "residency": _words(Residency.choices, _RESIDENCY_SYNONYMS),
            "id_type": _words(IdType.choices, _ID_TYPE_SYNONYMS), "sex": _SEX_WORDS}


def _require_ledger_importer(actor, community: Community) -> None:
    """Importing rewrites a whole community's registry: it needs an editor who holds the whole community."""
    require_registry_editor(actor)
    ensure_in_scope(actor, community)
    communities = community_ids_in_scope(actor)
    if communities is not None and community.id not in communities:
        raise NotAllowed(_("导入台账需要负责整个社区的账号"))


def _ledger_date(raw, text: str):
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    match = _DATE_PARTS.match(text)
    if not match:
        raise ValidationError(_("出生日期格式不正确,应如 1980-01-31"))
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        raise ValidationError(_("出生日期不存在")) from None


class _RowProblems:
    """Collects the problems of one row, each naming the column as the file does."""

    def __init__(self, sheet: ledger.LedgerSheet, line: int):
        self.sheet, self.line, self.found, self.codes = sheet, line, [], set()

    def add(self, code: str, message: str) -> None:
        self.found.append(LedgerProblem(self.line, self.sheet.header(code), message))
        self.codes.add(code)


_FORMULA_STARTS = frozenset(ledger.FORMULA_PREFIXES)


def _row_texts(sheet, line: int, cells: dict, problems: _RowProblems) -> dict[str, str]:
    texts = {}
    formulas = sheet.formula_cells
    for code, raw in cells.items():
        text = ledger.cell_text(raw)
        if formulas and (line, code) in formulas:
            problems.add(code, _("单元格含公式,请改为直接填写数值或文字"))
        elif text[:1] in _FORMULA_STARTS and code in _FREE_TEXT_FIELDS and len(text) > 1:
            problems.add(code, _("以 = + - @ 开头的内容可能是电子表格公式,已拒绝;如确为文字,请在开头加英文单引号 '"))
        elif code == "id_number" and type(raw) is float and abs(raw) >= 1e15:
            problems.add(code, _("证件号码被存成了数字,末几位已丢失;请把该列设为文本格式后重新填写"))
        texts[code] = ledger.unneutralise(text) if text[:1] == "'" else text
    return texts


_WORD_MESSAGES = {
    "id_type": gettext_lazy("证件类型不正确:%(v)s"),
    "sex": gettext_lazy("性别应为“男”或“女”,不是“%(v)s”"),
    "residency": gettext_lazy("人员类型应为户籍、常住、流动或临时来访,不是“%(v)s”"),
}


def _word(texts: dict, code: str, words: dict, default: str, problems: _RowProblems) -> str:
    text = texts.get(code, "")
    if not text:
        return default
    value = words.get(text.replace(" ", ""))
    if value is None:
        problems.add(code, str(_WORD_MESSAGES[code]) % {"v": text})
        return default
    return value


def _row_tags(texts: dict, words: dict, problems: _RowProblems) -> tuple:
    found, unknown = [], []
    for word in _TAG_SEPARATORS.split(texts.get("tags", "")):
        if word:
            code = words.get(word)
            (found if code else unknown).append(code or word)
    if unknown:
        problems.add("tags", _("未知的重点人群:%(t)s") % {"t": "、".join(unknown)})
    return tuple(found)


def _row_address(sheet, texts: dict, problems: _RowProblems) -> tuple | None:
    if not sheet.has("building"):
        return None
    parts = (normalize_building_number(texts["building"]), normalize_unit_number(texts["unit"]),
             normalize_room(texts["room"]))
    if not any(parts):
        return None
    if not all(parts):
        missing = [code for code, part in zip(ledger.ADDRESS_FIELDS, parts) if not part]
        problems.add(missing[0], _("楼栋、单元、房号须同时填写"))
        return None
    return (texts.get("compound", ""), *parts)


def _row_birth_date(cells: dict, texts: dict, problems: _RowProblems):
    if not texts.get("birth_date"):
        return None
    try:
        return _ledger_date(cells["birth_date"], texts["birth_date"])
    except ValidationError as err:
        problems.add("birth_date", " ".join(err.messages))
        return None


def _ledger_entry(sheet, line: int, cells: dict, words: dict) -> tuple[_LedgerEntry | None, list]:
    """Validate one row; return its entry, or None and every problem found in it."""
    problems = _RowProblems(sheet, line)
    texts = _row_texts(sheet, line, cells, problems)
    values = {
        "id_type": _word(texts, "id_type", words["id_type"], IdType.RESIDENT_ID, problems),
        "sex": _word(texts, "sex", words["sex"], "", problems),
        "residency": _word(texts, "residency", words["residency"], Residency.RESIDENT, problems),
        "tags": _row_tags(texts, words["tags"], problems),
    }
    values["birth_date"] = _row_birth_date(cells, texts, problems)
    address = _row_address(sheet, texts, problems)
    if problems.codes & {"name", "id_number"}:
        return None, problems.found
    try:
        data = clean_person_data(name=texts["name"], id_number=texts["id_number"], phone=texts.get("phone", ""),
                                 relationship=texts.get("relationship", ""), notes=texts.get("notes", ""), **values)
    except DomainError as err:
        code = next(iter(err.fields), "id_number")
        problems.add(code if code in ledger.HEADER_NAMES else "id_number", err.message)
        data = None
    if problems.found:
        return None, problems.found
    return _LedgerEntry(line=line, data=data, address=address), []


def _ledger_entries(sheet, report: LedgerReport, progress) -> list[_LedgerEntry]:
    """Validate every row in Python (no queries); duplicates inside the file name both lines."""
    words = _ledger_words()
    entries, first_line = [], {}
    total = len(sheet.rows)
    for count, (line, cells) in enumerate(sheet.rows, 1):
        entry, problems = _ledger_entry(sheet, line, cells, words)
        report.problems.extend(problems)
        if entry is not None:
            key = (entry.data.id_type, entry.data.id_number)
            if key in first_line:
                header = sheet.header("id_number")
                report.problems.append(LedgerProblem(line, header, _("与第 %(n)d 行证件号码重复") % {"n": first_line[key]}))
                report.problems.append(LedgerProblem(first_line[key], header, _("与第 %(n)d 行证件号码重复") % {"n": line}))
            else:
                first_line[key] = line
                entries.append(entry)
        if progress and (count % LEDGER_PROGRESS_EVERY == 0 or count == total):
            progress("checked", count, total)
    bad_lines = {problem.line for problem in report.problems}
    return [entry for entry in entries if entry.line not in bad_lines]


class _PlaceIndex:
    """The community's compounds, buildings, units and households, loaded in four queries."""

    def __init__(self, community: Community):
        self.compounds = dict(Compound.objects.filter(community=community).values_list("name", "id"))
        self.buildings: dict[str, list[dict]] = {}
        for building in Building.objects.filter(community=community).values("id", "community_id", "compound_id", "grid_id", "number"):
            self.buildings.setdefault(building["number"], []).append(building)
        self.units = {(b, n): pk for pk, b, n in Unit.objects.filter(community=community).values_list("id", "building_id", "number")}
        self.households = {(u, r): pk for pk, u, r in
                           Household.objects.filter(community=community).values_list("id", "unit_id", "room")}

    def household(self, sheet, entry: _LedgerEntry, plan: _LedgerPlan, problems: list):
        """The household id of the entry's address, or a key of a household to create; False on a problem."""
        compound_name, number, unit, room = entry.address
        candidates = self.buildings.get(number, [])
        if compound_name:
            compound_id = self.compounds.get(normalize_text(compound_name))
            if compound_id is None:
                problems.append(LedgerProblem(entry.line, sheet.header("compound"),
                                              _("本社区没有名为“%(c)s”的小区") % {"c": compound_name}))
                return False
            candidates = [b for b in candidates if b["compound_id"] == compound_id]
        if len(candidates) != 1:
            message = (_("本社区没有 %(b)s 号楼,请先在系统中建好楼栋") if not candidates else
                       _("本社区有多个小区都有 %(b)s 号楼,请增加“小区”列注明"))
            problems.append(LedgerProblem(entry.line, sheet.header("building"), message % {"b": number}))
            return False
        building = candidates[0]
        unit_id = self.units.get((building["id"], unit))
        existing = self.households.get((unit_id, room)) if unit_id else None
        if existing:
            return existing
        key = (building["id"], unit, room)
        plan.new_households.setdefault(key, building)
        return key


_COMPARED_FIELDS = ("id", "community_id", "household_id", "name", "id_type", "id_number", "sex", "birth_date", "phone",
                    "relationship", "residency", "notes")


def _existing_persons(community: Community, entries: list[_LedgerEntry]) -> tuple[dict, dict]:
    """Values of the persons registered under the file's document numbers, and their tags.

    The community's own persons come in one query (a re-import finds nearly all rows there);
    numbers not found are looked up across communities in chunks, through the document index.
    Plain values, since most rows of a re-import compare equal and need no model instance.
    """
    wanted = {(entry.data.id_type, entry.data.id_number) for entry in entries}
    persons = {}
    for values in Person.objects.filter(community=community).values(*_COMPARED_FIELDS).iterator(chunk_size=5000):
        key = (values["id_type"], values["id_number"])
        if key in wanted:
            persons[key] = values
    missing: dict[str, list[str]] = {}
    for id_type, number in wanted - persons.keys():
        missing.setdefault(id_type, []).append(number)
    for id_type, numbers in missing.items():
        for start in range(0, len(numbers), LEDGER_CHUNK):
            chunk = Person.objects.filter(id_type=id_type, id_number__in=numbers[start:start + LEDGER_CHUNK])
            for values in chunk.values(*_COMPARED_FIELDS):
                persons[(values["id_type"], values["id_number"])] = values
    tags: dict[int, set] = {}
    for person_id, tag in PersonTag.objects.filter(person__community=community).values_list("person_id", "tag"):
        tags.setdefault(person_id, set()).add(tag)
    return persons, tags


def _given_fields(sheet, data: PersonData) -> list[str]:
    """The person fields the file decides; a column the file lacks leaves its field as it is."""
    given = ["name", "id_type", "id_number"]
    derived = data.id_type == IdType.RESIDENT_ID
    given += [code for code in ("sex", "birth_date") if derived or sheet.has(code)]
    return given + [code for code in ("phone", "relationship", "residency", "notes") if sheet.has(code)]


def _charge_outsider_lookups(actor, community: Community, count: int) -> None:
    """Rows whose ID is registered outside the actor's scope tell that it is registered: each is an
    identity lookup, counted against the same limit as a full-ID search and audited."""
    window = settings.FULL_ID_SEARCH_WINDOW_SECONDS
    if throttle.hit(f"full-id-search:{actor.pk}", window, amount=count) > settings.FULL_ID_SEARCH_LIMIT:
        raise RateLimited(_("台账中有 %(n)d 个证件号码已在您负责范围以外登记,超过每小时核对上限;请与街道核实后再导入")
                          % {"n": count})
    audit.record(actor=actor, action=audit.Action.SEARCH_FULL_ID, obj=community, object_type="person",
                 object_repr=_("台账导入:%(n)d 个证件号码已在负责范围以外登记") % {"n": count}, fields=["id_number"],
                 community_id=community.id)


def _report_outsiders(actor, community: Community, sheet, outsiders: list, report: LedgerReport) -> None:
    """Rows whose person is registered in another community: named when the actor holds that one too."""
    communities = community_ids_in_scope(actor)
    names = dict(Community.objects.filter(pk__in={person["community_id"] for _e, person in outsiders})
                 .values_list("id", "name"))
    hidden = 0
    for entry, person in outsiders:
        if communities is None or person["community_id"] in communities:
            message = _("该证件号码已在“%(c)s”登记") % {"c": names[person["community_id"]]}
        else:
            message = _("该证件号码已在其他社区登记,请与该社区核实")
            hidden += 1
        report.problems.append(LedgerProblem(entry.line, sheet.header("id_number"), message))
    if hidden:
        _charge_outsider_lookups(actor, community, hidden)


def _ledger_plan(actor, community: Community, sheet, entries: list[_LedgerEntry], report: LedgerReport) -> _LedgerPlan:
    """Compare the file with the registry: what to create, what to update, what is unchanged."""
    plan = _LedgerPlan()
    places = _PlaceIndex(community) if sheet.has("building") else None
    persons, tags = _existing_persons(community, entries)
    outsiders = []
    for entry in entries:
        household = places.household(sheet, entry, plan, report.problems) if places and entry.address else None
        if household is False:
            continue
        person = persons.get((entry.data.id_type, entry.data.id_number))
        if person is None:
            plan.creates.append((entry, household))
        elif person["community_id"] != community.id:
            outsiders.append((entry, person))
        else:
            _plan_update(sheet, plan, report, entry, person, household, tags.get(person["id"], set()))
    if outsiders:
        _report_outsiders(actor, community, sheet, outsiders, report)
    report.created, report.updated = len(plan.creates), len(plan.updates)
    report.households_created = len(plan.new_households)
    return plan


def _plan_update(sheet, plan, report, entry: _LedgerEntry, person: dict, household, current_tags: set) -> None:
    changed = [f for f in _given_fields(sheet, entry.data) if person[f] != getattr(entry.data, f)]
    if sheet.has("building") and household != person["household_id"]:
        changed.append("household")
    tags_changed = sheet.has("tags") and set(entry.data.tags) != current_tags
    if changed or tags_changed:
        plan.updates.append(_LedgerUpdate(Person(**person), entry.data, changed, household, tags_changed))
    else:
        report.unchanged += 1


def _create_households(plan: _LedgerPlan) -> dict[tuple, int]:
    """Create the units and households the file names under known buildings; key → household id."""
    unit_keys = {(building["id"], unit): building for (_b, unit, _r), building in plan.new_households.items()}
    units = {(u.building_id, u.number): u.pk for u in
             Unit.objects.filter(building_id__in={b for b, _u in unit_keys}).only("id", "building_id", "number")}
    Unit.objects.bulk_create([Unit(community_id=b["community_id"], grid_id=b["grid_id"], building_id=b["id"], number=n)
                              for (_id, n), b in unit_keys.items() if (_id, n) not in units], batch_size=1000)
    units = {(u.building_id, u.number): u.pk for u in
             Unit.objects.filter(building_id__in={b for b, _u in unit_keys}).only("id", "building_id", "number")}
    households = [Household(community_id=b["community_id"], grid_id=b["grid_id"], compound_id=b["compound_id"],
                            building_id=b["id"], unit_id=units[(b["id"], unit)], room=room)
                  for (_b, unit, room), b in plan.new_households.items()]
    Household.objects.bulk_create(households, batch_size=1000)
    return {key: household.pk for household, key in zip(households, plan.new_households)}


def _set_ledger_tags(pairs: list[tuple[int, tuple]], replace: bool) -> None:
    if replace:
        ids = [person_id for person_id, _tags in pairs]
        for start in range(0, len(ids), LEDGER_CHUNK):
            PersonTag.objects.filter(person_id__in=ids[start:start + LEDGER_CHUNK]).delete()
    insert_rows(PersonTag, ("person_id", "tag"), [(person_id, tag) for person_id, tags in pairs for tag in tags])


_CREATED_COLUMNS = ("community_id", "household_id", "created_at", "updated_at", *STORED_FIELDS,
                    "name_pinyin", "name_initials", "id_last4", "phone_last4")


def _created_ids(community: Community, created_at) -> dict[tuple, int]:
    """The ids the database gave the new persons: every row of one import carries the same
    created_at, so one query finds them, keyed by document (a row of another import with the very
    same timestamp would only add keys nobody asks for)."""
    rows = Person.objects.filter(community=community, created_at=created_at).values_list("id", "id_type", "id_number")
    return {(id_type, number): pk for pk, id_type, number in rows.iterator(chunk_size=10000)}


def _create_ledger_persons(actor, community: Community, plan: _LedgerPlan, household_id) -> None:
    """Insert the new persons in one stream, then their tags and one AuditEvent each."""
    now = timezone.now()
    rows = []
    for entry, ref in plan.creates:
        values = stored_person_values(entry.data)
        values.update(community_id=community.id, household_id=household_id(ref), created_at=now, updated_at=now)
        rows.append(tuple(values[column] for column in _CREATED_COLUMNS))
    insert_rows(Person, _CREATED_COLUMNS, rows)
    ids = _created_ids(community, now)
    keys = [(entry.data.id_type, entry.data.id_number) for entry, _ref in plan.creates]
    _set_ledger_tags([(ids[key], entry.data.tags) for key, (entry, _ref) in zip(keys, plan.creates) if entry.data.tags],
                     replace=False)
    audit.record_many(actor=actor, action=audit.Action.CREATE, object_type="person", community_id=community.id,
                      objects=((ids[key], entry.data.name, [*PERSON_FIELDS, "tags"])
                               for key, (entry, _ref) in zip(keys, plan.creates)))


def _ledger_write(actor, community: Community, plan: _LedgerPlan, progress: Callable[..., None] | None) -> None:
    """Write the plan in batches: households, new persons, changed persons, tags.

    `progress` hears of the rows written after each batch (the rows left unchanged count as written).
    """
    new_households = _create_households(plan) if plan.new_households else {}

    def household_id(ref):
        return new_households[ref] if isinstance(ref, tuple) else ref

    _create_ledger_persons(actor, community, plan, household_id)
    if progress:
        progress("written", len(plan.creates))
    _update_ledger_persons(plan.updates, household_id)
    audit.record_many(actor=actor, action=audit.Action.UPDATE, object_type="person", community_id=community.id,
                      objects=((u.person.pk, u.person.name, [*u.changed, *(["tags"] if u.tags_changed else [])])
                               for u in plan.updates))


def _update_ledger_persons(updates: list[_LedgerUpdate], household_id) -> None:
    now, fields = timezone.now(), {"updated_at"}
    for update in updates:
        person = update.person
        for name in update.changed:
            if name == "household":
                person.household_id = household_id(update.household)
            else:
                setattr(person, name, getattr(update.data, name))
        person.name_pinyin, person.name_initials = pinyin_keys(person.name)
        person.phone_last4 = person.phone[-4:] if person.phone else ""
        person.updated_at = now
        fields.update("household_id" if name == "household" else name for name in update.changed)
    if any(u.changed for u in updates):
        Person.objects.bulk_update([u.person for u in updates if u.changed],
                                   sorted(fields | {"name_pinyin", "name_initials", "phone_last4"}), batch_size=1000)
    _set_ledger_tags([(u.person.pk, u.data.tags) for u in updates if u.tags_changed], replace=True)


def ledger_import(*, actor, community: Community, file_name: str, data: bytes, dry_run: bool = False,
                  progress: Callable[..., None] | None = None) -> LedgerReport:
    """Import a ledger file: all rows or none.

    Every row is validated first, in Python; a preview (dry_run) stops there and reports. A commit
    locks the community row, so two imports of one file run one after the other and the second
    finds nothing to change, then compares the file with the registry and writes in batches.
    `progress(step, rows, total)` hears of the rows read, checked and written as they go.
    """
    _require_ledger_importer(actor, community)
    sheet = ledger.read_ledger(file_name, data)
    if progress:
        progress("read", len(sheet.rows), len(sheet.rows))
    report = LedgerReport(rows=len(sheet.rows), unknown_columns=sheet.unknown_columns, dry_run=dry_run)
    entries = _ledger_entries(sheet, report, progress)
    if dry_run:
        _ledger_plan(actor, community, sheet, entries, report)
    else:
        with transaction.atomic():
            Community.objects.select_for_update().get(pk=community.pk)
            plan = _ledger_plan(actor, community, sheet, entries, report)
            if report.ok:
                _ledger_write(actor, community, plan, progress)
                if report.created or report.updated:
                    care_tasks_follow_community(actor=actor, community=community)
                audit.record(actor=actor, action=audit.Action.IMPORT, obj=community, object_repr=_ledger_summary(file_name, report),
                             fields=list(sheet.headers), community_id=community.id)
            else:
                report.created = report.updated = report.unchanged = report.households_created = 0
    report.problems.sort(key=lambda problem: problem.line)
    if progress and report.ok and not dry_run:
        progress("written", report.rows)
    return report


def _ledger_summary(file_name: str, report: LedgerReport) -> str:
    return _("人口台账 %(f)s:新增 %(c)d 人,更新 %(u)d 人,未变 %(n)d 人,新建 %(h)d 户") % {
        "f": file_name, "c": report.created, "u": report.updated, "n": report.unchanged, "h": report.households_created}


PREVIEW_KEPT = datetime.timedelta(days=1)


def ledger_import_job_start(*, actor, community: Community, file_name: str, data: bytes, dry_run: bool) -> ImportJob:
    """Queue an import for the worker; the ImportJob shows its progress and, at the end, its report.

    The job keeps the file for the worker. A clean preview keeps it afterwards too, so that it can
    be committed without choosing it again; files kept longer than a day are dropped (they hold
    personal data).
    """
    _require_ledger_importer(actor, community)
    ImportJob.objects.filter(created_at__lt=timezone.now() - PREVIEW_KEPT, upload__isnull=False).update(upload=None)
    job = ImportJob.objects.create(community=community, actor=actor, origin=job_origin(actor), file_name=file_name[:255],
                                   dry_run=dry_run, upload=data)
    job_enqueue(job)
    return job


def ledger_import_job_commit(*, actor, preview: ImportJob) -> ImportJob:
    """Import the file of a clean preview; the preview gives its file up, so it is committed once."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=preview.pk).first()
        if locked is None or not (locked.dry_run and locked.status == ImportJob.Status.DONE and locked.report.get("ok")):
            raise DomainError(_("只有预览通过的台账才能直接确认导入"), code="not_previewed")
        if locked.upload is None:
            raise DomainError(_("该预览的文件已导入或已过期,请重新上传"), code="preview_gone")
        data = bytes(locked.upload)
        ImportJob.objects.filter(pk=locked.pk).update(upload=None)
        return ledger_import_job_start(actor=actor, community=preview.community, file_name=preview.file_name, data=data,
                                       dry_run=False)


def ledger_import_job_work(job: ImportJob, progress: Progress) -> dict:
    """The worker's side of an ImportJob (see fangkong.core.jobs): import its file, keep the report.

    The file stays with the job only when it is a clean preview that may still be committed.
    """
    if job.upload is None:
        raise DomainError(_("导入文件已不在,请重新上传"), code="upload_gone")
    report = ledger_import(actor=job.actor, community=job.community, file_name=job.file_name, data=bytes(job.upload),
                           dry_run=job.dry_run, progress=progress)
    kept = job.dry_run and report.ok
    return {"report": report.as_dict(), **({} if kept else {"upload": None})}
