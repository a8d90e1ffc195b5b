"""Importing a community's population ledger (人口台账): all rows or none, each change audited.

The file format is people.ledger's; this module validates the rows, compares them with the
registry and writes the differences. An import runs as an ImportJob that shows its progress.

A ledger holds up to a hundred thousand rows and is imported again after every round of
door-to-door checks, so the work per row is kept small:
- a value that repeats down a column (building, unit, sex, residency, tags, a birth date) is
  read once; a row is read quickly, and only a row with something wrong in it is read again
  by the full check, which names every problem it has;
- the registry's persons and tags come as plain tuples in a few queries, and a row that
  changes nothing is recognised by comparing tuples;
- new persons go in as one stream (COPY on PostgreSQL, see core.bulk), and the database
  writes their audit events from the rows just stored.
"""

import datetime
import gc
import logging
import operator
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import audit, rawsql, throttle
from fangkong.core.bulk import insert_rows, update_rows
from fangkong.core.errors import DomainError, NotAllowed, RateLimited
from fangkong.core.idnumbers import normalize_text, resident_id_facts
from fangkong.core.jobs import Progress, job_enqueue, job_origin
from fangkong.core.scope import community_ids_in_scope, ensure_in_scope
from fangkong.people import ledger
from fangkong.people.care import care_tasks_follow_community
from fangkong.people.models import IdType, ImportJob, Person, PersonTag, Residency, Sex, Tag
from fangkong.people.permissions import require_registry_editor
from fangkong.people.person_data import (
    PERSON_FIELDS,
    SEARCH_KEY_FIELDS,
    STORED_FIELDS,
    PersonData,
    clean_notes,
    clean_person_data,
    clean_phone,
    clean_relationship,
    distinct_tags,
    search_keys,
    sex_and_birth_date_of,
    stored_fields_of,
)
from fangkong.places.models import Building, Community, Compound, Household, Unit
from fangkong.places.services import normalize_building_number, normalize_room, normalize_unit_number

logger = logging.getLogger("fangkong.people")

LEDGER_CHUNK = 2000
LEDGER_PROGRESS_EVERY = 1000
_TAG_SYNONYMS = {"独居": Tag.ELDERLY_ALONE, "独居老人": Tag.ELDERLY_ALONE, "慢病": Tag.CHRONIC_SEVERE,
                 "重症": Tag.CHRONIC_SEVERE, "重症慢病": Tag.CHRONIC_SEVERE,
                 "孕妇": Tag.PREGNANT, "孕产妇": Tag.PREGNANT,
                 "残疾": Tag.DISABLED, "保洁": Tag.KEY_WORKER, "保安": Tag.KEY_WORKER, "保供": Tag.KEY_WORKER,
                 "大学生": Tag.RETURNING_STUDENT, "卧床": Tag.IMMOBILE, "失能": Tag.IMMOBILE, "婴儿": Tag.INFANT,
                 "医护": Tag.MEDICAL_WORKER, "困难": Tag.HARDSHIP}
_RESIDENCY_SYNONYMS = {"户籍人口": Residency.REGISTERED, "常住人口": Residency.RESIDENT, "流动人口": Residency.FLOATING,
                       "暂住": Residency.FLOATING, "外来": Residency.FLOATING, "来访": Residency.VISITOR,
                       "访客": Residency.VISITOR}
_ID_TYPE_SYNONYMS = {"身份证": IdType.RESIDENT_ID, "港澳通行证": IdType.HK_MACAO_PERMIT,
                     "台胞证": IdType.TAIWAN_PERMIT, "居住证": IdType.HMT_RESIDENCE_PERMIT}
_SEX_WORDS = {"男": Sex.MALE, "女": Sex.FEMALE, "M": Sex.MALE, "F": Sex.FEMALE}
_FREE_TEXT_FIELDS = frozenset(("name", "relationship", "notes"))
_WORD_DEFAULTS = {"id_type": IdType.RESIDENT_ID, "sex": "", "residency": Residency.RESIDENT}


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


@dataclass(slots=True)
class _LedgerEntry:
    """One valid row: the person's values and, when the file has address columns, the address."""

    line: int
    data: PersonData
    address: tuple[str, str, str, str] | None  # compound name ("" when absent), building, unit, room


@dataclass(slots=True)
class _LedgerUpdate:
    line: int
    person_id: int
    stored: tuple  # the person's _COMPARED_FIELDS as registered
    data: PersonData
    changed: list[str]
    household: object  # an id, a key of a household to create, or None
    building: dict | None  # the building of a household to create
    tags_changed: bool


@dataclass
class _LedgerPlan:
    creates: list[tuple[_LedgerEntry, object]] = field(default_factory=list)
    updates: list[_LedgerUpdate] = field(default_factory=list)
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


# Reading one cell: its value, and what is wrong with it (None when nothing) -------------------

_FORMULA_STARTS = frozenset(ledger.FORMULA_PREFIXES)


def _plain_text(raw) -> str:
    """The text of a cell `_cell` finds nothing wrong with whatever it holds (neither free text nor an ID)."""
    text = ledger.cell_text(raw)
    return ledger.unneutralise(text) if text[:1] == "'" else text


def _cell(code: str, raw) -> tuple[str, str | None]:
    """A cell's text as the file means it, and what is wrong with the cell itself."""
    text = ledger.cell_text(raw)
    problem = None
    if text[:1] in _FORMULA_STARTS and code in _FREE_TEXT_FIELDS and len(text) > 1:
        problem = _("以 = + - @ 开头的内容可能是电子表格公式,已拒绝;如确为文字,请在开头加英文单引号 '")
    elif code == "id_number" and type(raw) is float and abs(raw) >= 1e15:
        problem = _("证件号码被存成了数字,末几位已丢失;请把该列设为文本格式后重新填写")
    return (ledger.unneutralise(text) if text[:1] == "'" else text), problem


_WORD_MESSAGES = {
    "id_type": gettext_lazy("证件类型不正确:%(v)s"),
    "sex": gettext_lazy("性别应为“男”或“女”,不是“%(v)s”"),
    "residency": gettext_lazy("人员类型应为户籍、常住、流动或临时来访,不是“%(v)s”"),
}


def _word_value(code: str, text: str, words: dict) -> tuple[str, str | None]:
    if not text:
        return _WORD_DEFAULTS[code], None
    value = words.get(text.replace(" ", ""))
    if value is None:
        return _WORD_DEFAULTS[code], str(_WORD_MESSAGES[code]) % {"v": text}
    return value, None


def _tag_codes(text: str, words: dict) -> tuple[tuple, str | None]:
    found, unknown = [], []
    for word in ledger.split_list(text):
        code = words.get(word)
        (found if code else unknown).append(code or word)
    if unknown:
        return tuple(found), _("未知的重点人群:%(t)s") % {"t": "、".join(unknown)}
    return tuple(found), None


def _birth_date(raw, text: str) -> tuple[datetime.date | None, str | None]:
    if not text:
        return None, None
    try:
        return ledger.cell_date(raw, text), None
    except ValidationError as err:
        return None, " ".join(err.messages)


def _address(compound: str, building: str, unit: str, room: str) -> tuple[tuple | None, str | None]:
    """The row's address from its normalised parts (None when it gives none), or the first part missing."""
    parts = (building, unit, room)
    if not any(parts):
        return None, None
    if not all(parts):
        return None, next(code for code, part in zip(ledger.ADDRESS_FIELDS, parts, strict=True) if not part)
    return (compound, *parts), None


# The full check of a row, which names every problem in it ----------------------------------

class _RowProblems:
    """Collects the problems of one row, each naming the column as the file does."""

    def __init__(self, sheet: ledger.LedgerSheet, line: int):
        self.sheet, self.line, self.found, self.codes = sheet, line, [], set()

    def add(self, code: str, message: str | None) -> None:
        if message:
            self.found.append(LedgerProblem(self.line, self.sheet.header(code), message))
            self.codes.add(code)


def _row_texts(sheet, line: int, cells: dict, problems: _RowProblems) -> dict[str, str]:
    texts = {}
    formulas = sheet.formula_cells
    for code, raw in cells.items():
        texts[code], problem = _cell(code, raw)
        if formulas and (line, code) in formulas:
            problem = _("单元格含公式,请改为直接填写数值或文字")
        problems.add(code, problem)
    return texts


def _row_value(problems: _RowProblems, code: str, outcome: tuple):
    value, problem = outcome
    problems.add(code, problem)
    return value


def _row_address(texts: dict, problems: _RowProblems) -> tuple | None:
    address, missing = _address(texts.get("compound", ""), normalize_building_number(texts["building"]),
                                normalize_unit_number(texts["unit"]), normalize_room(texts["room"]))
    if missing:
        problems.add(missing, _("楼栋、单元、房号须同时填写"))
    return address


def _ledger_entry(sheet, line: int, cells: dict, words: dict) -> tuple[_LedgerEntry | None, list]:
    """Validate one row; return its entry, or None and every problem found in it."""
    problems = _RowProblems(sheet, line)
    texts = _row_texts(sheet, line, cells, problems)
    values = {code: _row_value(problems, code, _word_value(code, texts.get(code, ""), words[code]))
              for code in ("id_type", "sex", "residency")}
    values["tags"] = _row_value(problems, "tags", _tag_codes(texts.get("tags", ""), words["tags"]))
    birth_date = _birth_date(cells.get("birth_date"), texts.get("birth_date", ""))
    values["birth_date"] = _row_value(problems, "birth_date", birth_date)
    address = _row_address(texts, problems) if sheet.has("building") else None
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


# The quick reading of a row, each repeated cell value read once -----------------------------

_UNREADABLE = object()  # a cell the full check must explain


def _text_reader(code: str, then=None):
    """Reads a cell of `code` to its value, or _UNREADABLE; `then` turns its text into (value, problem)."""

    def read(raw):
        text, problem = _cell(code, raw)
        if problem:
            return _UNREADABLE
        if then is None:
            return text
        value, problem = then(raw, text)
        return _UNREADABLE if problem else value

    return read


# How each address cell is read (none of them can hold what `_cell` refuses).
_ADDRESS_PARTS = {"compound": str, "building": normalize_building_number, "unit": normalize_unit_number,
                  "room": normalize_room}


class _Unchanged(NamedTuple):
    """A row giving just what the registry holds for its document."""

    line: int
    key: tuple


class _QuickReader:
    """Reads a clean row at little cost, or gives None for the full check to explain it.

    Values are memoised per column and cell value: they depend on nothing else (a formula cell,
    which depends on where it is, sends its row to the full check). Name, ID and phone differ on
    every row and are read each time.

    A row naming a document the community's registry holds is first compared with it as read:
    when it gives just what is registered, it changes nothing and is passed by without checking
    again what the registered values passed when they were written (the document number is one
    the registry accepted; sex, birth date, phone and the rest are still read as the check reads
    them). Any other row is checked by clean_person_data.
    """

    def __init__(self, sheet: ledger.LedgerSheet, words: dict, registry: "_Registry", comparison: "_Comparison"):
        parsers = {
            "relationship": None, "notes": None, "birth_date": _birth_date,
            "tags": lambda _raw, text: _distinct(_tag_codes(text, words["tags"])),
            **{code: (lambda _raw, text, code=code: _word_value(code, text, words[code])) for code in _WORD_DEFAULTS},
        }
        self.readers = [(code, sheet.columns[code], _text_reader(code, parse), {})
                        for code, parse in parsers.items() if sheet.has(code)]
        self.defaults = {"relationship": "", "notes": "", "birth_date": None, "tags": (), **_WORD_DEFAULTS}
        self.address_codes = (("compound",) if sheet.has("compound") else ()) + ledger.ADDRESS_FIELDS
        self.address_cells = (operator.itemgetter(*(sheet.columns[code] for code in self.address_codes))
                              if sheet.has("building") else None)
        self.addresses: dict[tuple, tuple] = {}
        self.address_parts: dict[str, dict] = {code: {} for code in self.address_codes}
        self.name, self.id_number = sheet.columns["name"], sheet.columns["id_number"]
        self.phone = sheet.columns.get("phone")
        self.registry, self.comparison = registry, comparison
        cleaners = (("relationship", clean_relationship), ("notes", clean_notes))
        self.cleaned = [(code, clean, {}) for code, clean in cleaners if sheet.has(code)]

    def entry(self, line: int, cells: list) -> "_LedgerEntry | _Unchanged | None":
        values = dict(self.defaults)
        for code, position, read, seen in self.readers:
            raw = cells[position]
            value = seen.get(raw, _UNREADABLE)
            if value is _UNREADABLE:
                value = seen[raw] = read(raw)
                if value is _UNREADABLE:
                    return None
            values[code] = value
        address = household = problem = None
        if self.address_cells is not None:
            raws = self.address_cells(cells)
            found = self.addresses.get(raws)
            if found is None:
                found = self.addresses[raws] = self._read_address(raws)
            address, household, problem = found
            if address is _UNREADABLE:
                return None
        name, name_problem = _cell("name", cells[self.name])
        raw_id = cells[self.id_number]
        if name_problem or (type(raw_id) is float and abs(raw_id) >= 1e15):
            return None
        id_number = _plain_text(raw_id)
        phone = "" if self.phone is None else _plain_text(cells[self.phone])
        key = (values["id_type"], id_number)
        stored = self.registry.persons.get(key)
        if stored is not None and not problem and self._unchanged(stored, name, id_number, phone, values, household):
            return _Unchanged(line, key)
        try:
            data = clean_person_data(name=name, id_number=id_number, phone=phone, **values)
        except DomainError:
            return None
        return _LedgerEntry(line=line, data=data, address=address)

    def _read_address(self, raws: tuple) -> tuple:
        """(address, household, problem column) of these address cells; the address is None when
        they give none, _UNREADABLE when the full check must explain them. Each part's cell value is
        normalised once (a file has a few dozen room numbers, repeated under every unit)."""
        parts = {}
        for code, raw in zip(self.address_codes, raws, strict=True):
            seen = self.address_parts[code]
            part = seen.get(raw)
            if part is None:
                part = seen[raw] = _ADDRESS_PARTS[code](_plain_text(raw))
            parts[code] = part
        address, missing = _address(parts.get("compound", ""), parts["building"], parts["unit"], parts["room"])
        if missing:
            return _UNREADABLE, None, None
        if address is None:
            return None, None, None
        household, _building, problem, _message = self.registry.places.find(address)
        return address, household, problem

    def _unchanged(self, stored: tuple, name: str, id_number: str, phone: str, values: dict, household) -> bool:
        sex, birth_date = values["sex"], values["birth_date"]
        try:
            if values["id_type"] == _RESIDENT_ID:
                facts = resident_id_facts(id_number)
                if facts is None:
                    return False
                sex, birth_date = sex_and_birth_date_of(facts, sex, birth_date)
            phone = clean_phone(phone)
        except DomainError:
            return False
        texts = {"relationship": "", "notes": ""}
        for code, clean, seen in self.cleaned:
            text = values[code]
            cleaned = seen.get(text)
            if cleaned is None:
                cleaned = seen[text] = clean(text)
            texts[code] = cleaned
        data = PersonData(name=name, id_type=values["id_type"], id_number=id_number, sex=sex, birth_date=birth_date,
                          phone=phone, relationship=texts["relationship"], residency=values["residency"],
                          notes=texts["notes"], tags=values["tags"])
        changed, tags_changed = self.comparison.changes(data, stored, household,
                                                        self.registry.tags.get(stored[_ID], ()))
        return not changed and not tags_changed


def _distinct(outcome: tuple) -> tuple:
    codes, problem = outcome
    return distinct_tags(codes), problem


# The registry the file is compared with -----------------------------------------------------

class _PlaceIndex:
    """The community's compounds, buildings, units and households, loaded in four queries; each
    address the file names is looked up once."""

    def __init__(self, community: Community):
        self.compounds = dict(Compound.objects.filter(community=community).values_list("name", "id"))
        self.buildings: dict[str, list[dict]] = {}
        buildings = Building.objects.filter(community=community).values(
            "id", "community_id", "compound_id", "grid_id", "number")
        for building in buildings:
            self.buildings.setdefault(building["number"], []).append(building)
        self.units = {(b, n): pk for pk, b, n in
                      Unit.objects.filter(community=community).values_list("id", "building_id", "number")}
        self.households = {(u, r): pk for pk, u, r in
                           Household.objects.filter(community=community).values_list("id", "unit_id", "room")}
        self.found: dict[tuple, tuple] = {}

    def find(self, address: tuple) -> tuple:
        """(household, building, problem column, message): the household is an id, or the key of a
        household to create under that building; the column and message say what is wrong instead."""
        found = self.found.get(address)
        if found is None:
            found = self.found[address] = self._find(*address)
        return found

    def _find(self, compound_name: str, number: str, unit: str, room: str) -> tuple:
        candidates = self.buildings.get(number, [])
        if compound_name:
            compound_id = self.compounds.get(normalize_text(compound_name))
            if compound_id is None:
                return None, None, "compound", _("本社区没有名为“%(c)s”的小区") % {"c": compound_name}
            candidates = [b for b in candidates if b["compound_id"] == compound_id]
        if len(candidates) != 1:
            message = (_("本社区没有 %(b)s 号楼,请先在系统中建好楼栋") if not candidates else
                       _("本社区有多个小区都有 %(b)s 号楼,请增加“小区”列注明"))
            return None, None, "building", message % {"b": number}
        building = candidates[0]
        unit_id = self.units.get((building["id"], unit))
        existing = self.households.get((unit_id, room)) if unit_id else None
        if existing:
            return existing, None, None, None
        return (building["id"], unit, room), building, None, None


_COMPARED_FIELDS = ("id", "community_id", "household_id", "name", "id_type", "id_number", "sex", "birth_date", "phone",
                    "relationship", "residency", "notes")
_ID, _COMMUNITY, _HOUSEHOLD, _ID_TYPE, _ID_NUMBER = map(_COMPARED_FIELDS.index, (
    "id", "community_id", "household_id", "id_type", "id_number"))


class _Registry:
    """The community's persons (as _COMPARED_FIELDS tuples, by document), their tags (sorted
    tuples, by person id) and, when the file has addresses, its places: a few queries.

    Plain tuples, since most rows of a re-import compare equal and need no model instance.
    """

    def __init__(self, community: Community, sheet: ledger.LedgerSheet):
        rows = Person.objects.filter(community=community).values_list(*_COMPARED_FIELDS).iterator(chunk_size=5000)
        self.persons = {(row[_ID_TYPE], row[_ID_NUMBER]): row for row in rows}
        tags: dict[int, list] = {}
        for person_id, tag in PersonTag.objects.filter(person__community=community).values_list("person_id", "tag"):
            tags.setdefault(person_id, []).append(tag)
        self.tags = {person_id: tuple(sorted(codes)) for person_id, codes in tags.items()}
        self.places = _PlaceIndex(community) if sheet.has("building") else None


def _registered_under(id_type: str, numbers: list[str]) -> list[tuple]:
    """The persons, in any community, registered under these numbers, through the document index.

    A first import asks for every number of the file: on PostgreSQL they go as few arrays
    (core.lookups' one_of), elsewhere in chunks the database takes as parameters.
    """
    size = 50_000 if connection.vendor == "postgresql" else LEDGER_CHUNK
    return [row for start in range(0, len(numbers), size)
            for row in Person.objects.filter(id_type=id_type, id_number__one_of=numbers[start:start + size])
            .values_list(*_COMPARED_FIELDS)]


def _registered_elsewhere(entries: list[_LedgerEntry]) -> dict[tuple, tuple]:
    """The persons registered (outside the community) under the documents of these entries."""
    numbers: dict[str, list[str]] = {}
    for entry in entries:
        numbers.setdefault(entry.data.id_type, []).append(entry.data.id_number)
    return {(row[_ID_TYPE], row[_ID_NUMBER]): row
            for id_type, chunk in numbers.items() for row in _registered_under(id_type, chunk)}


def _given_fields(sheet, derived: bool) -> list[str]:
    """The person fields the file decides (`derived`: sex and birth date come from a resident ID);
    a column the file lacks leaves its field as it is."""
    given = ["name", "id_type", "id_number"]
    given += [code for code in ("sex", "birth_date") if derived or sheet.has(code)]
    return given + [code for code in ("phone", "relationship", "residency", "notes") if sheet.has(code)]


class _Comparison:
    """What a row of this file decides about a person, beside what the registry holds."""

    def __init__(self, sheet):
        self.has_address, self.has_tags = sheet.has("building"), sheet.has("tags")
        self.fields = {derived: _given_fields(sheet, derived) for derived in (True, False)}
        self.given = {derived: operator.attrgetter(*fields) for derived, fields in self.fields.items()}
        self.stored = {derived: operator.itemgetter(*map(_COMPARED_FIELDS.index, fields))
                       for derived, fields in self.fields.items()}

    def changes(self, data: PersonData, stored: tuple, household, tags: tuple) -> tuple[list[str], bool]:
        """The fields the row changes, and whether it changes the tags."""
        derived = data.id_type == _RESIDENT_ID
        changed = []
        if self.given[derived](data) != self.stored[derived](stored):
            changed = [name for name in self.fields[derived]
                       if stored[_COMPARED_FIELDS.index(name)] != getattr(data, name)]
        if self.has_address and household != stored[_HOUSEHOLD]:
            changed.append("household")
        return changed, self.has_tags and data.tags != tags


_RESIDENT_ID = str(IdType.RESIDENT_ID)


# One pass over the rows: each is checked and compared with the registry ---------------------

@dataclass
class _Reading:
    """The file's valid rows by what they do (lines found bad later are dropped by the plan)."""

    unchanged: list[int] = field(default_factory=list)  # lines
    updates: list[_LedgerUpdate] = field(default_factory=list)
    others: list[tuple[_LedgerEntry, object, dict | None]] = field(default_factory=list)  # not in the community:
    # the entry, its household (id, key of one to create, or None) and the building of one to create


def _first_of_its_document(sheet, line: int, key: tuple, first_line: dict, report: LedgerReport) -> bool:
    """Whether no earlier row names the same document; if one does, both lines are reported."""
    first = first_line.setdefault(key, line)
    if first == line:
        return True
    header = sheet.header("id_number")
    report.problems.append(LedgerProblem(line, header, _("与第 %(n)d 行证件号码重复") % {"n": first}))
    report.problems.append(LedgerProblem(first, header, _("与第 %(n)d 行证件号码重复") % {"n": line}))
    return False


def _sort_entry(sheet, registry: _Registry, comparison: _Comparison, entry: _LedgerEntry, reading: _Reading,
                report: LedgerReport) -> None:
    household = building = None
    if entry.address and registry.places:
        household, building, code, message = registry.places.find(entry.address)
        if code:
            report.problems.append(LedgerProblem(entry.line, sheet.header(code), message))
            return
    data = entry.data
    stored = registry.persons.get((data.id_type, data.id_number))
    if stored is None:
        reading.others.append((entry, household, building))
        return
    changed, tags_changed = comparison.changes(data, stored, household, registry.tags.get(stored[_ID], ()))
    if changed or tags_changed:
        reading.updates.append(_LedgerUpdate(entry.line, stored[_ID], stored, data, changed, household, building,
                                             tags_changed))
    else:
        reading.unchanged.append(entry.line)


def _read_rows(sheet, registry: _Registry, report: LedgerReport, progress) -> _Reading:
    """Check every row (the full check only for a row the quick reading finds anything wrong with)
    and compare it with the registry; duplicates inside the file name both lines."""
    words, comparison = _ledger_words(), _Comparison(sheet)
    quick = _QuickReader(sheet, words, registry, comparison)
    formula_lines = {line for line, _code in sheet.formula_cells}
    reading, first_line = _Reading(), {}
    total = len(sheet.rows)
    for count, (line, cells) in enumerate(sheet.rows, 1):
        entry = None if line in formula_lines else quick.entry(line, cells)
        if entry is None:
            entry, problems = _ledger_entry(sheet, line, sheet.values(cells), words)
            report.problems.extend(problems)
        if type(entry) is _Unchanged:
            if _first_of_its_document(sheet, line, entry.key, first_line, report):
                reading.unchanged.append(line)
        elif entry is not None and _first_of_its_document(sheet, line, (entry.data.id_type, entry.data.id_number),
                                                          first_line, report):
            _sort_entry(sheet, registry, comparison, entry, reading, report)
        if progress and (count % LEDGER_PROGRESS_EVERY == 0 or count == total):
            progress("checked", count, total)
    return reading


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
    names = dict(Community.objects.filter(pk__in={stored[_COMMUNITY] for _e, stored in outsiders})
                 .values_list("id", "name"))
    hidden = 0
    for entry, stored in outsiders:
        if communities is None or stored[_COMMUNITY] in communities:
            message = _("该证件号码已在“%(c)s”登记") % {"c": names[stored[_COMMUNITY]]}
        else:
            message = _("该证件号码已在其他社区登记,请与该社区核实")
            hidden += 1
        report.problems.append(LedgerProblem(entry.line, sheet.header("id_number"), message))
    if hidden:
        _charge_outsider_lookups(actor, community, hidden)


def _ledger_plan(actor, community: Community, sheet, report: LedgerReport, progress, *,
                 look_elsewhere: bool) -> _LedgerPlan:
    """Compare the file with the registry: what to create, what to update, what is unchanged.

    With look_elsewhere, the documents not in the community are looked up in the others, and
    those found there reported; without, they are planned as new persons, for the database's
    document index to refuse (see `_outsiders_refused`).
    """
    reading = _read_rows(sheet, _Registry(community, sheet), report, progress)
    bad_lines = {problem.line for problem in report.problems}
    plan = _LedgerPlan(updates=[update for update in reading.updates if update.line not in bad_lines])
    others = [other for other in reading.others if other[0].line not in bad_lines]
    registered = _registered_elsewhere([entry for entry, _household, _building in others]) if look_elsewhere else {}
    outsiders = []
    for entry, household, building in others:
        stored = registered.get((entry.data.id_type, entry.data.id_number))
        if stored is not None and stored[_COMMUNITY] != community.id:
            outsiders.append((entry, stored))
        else:
            plan.creates.append((entry, household))
            if building is not None:
                plan.new_households.setdefault(household, building)
    for update in plan.updates:
        if update.building is not None:
            plan.new_households.setdefault(update.household, update.building)
    if outsiders:
        _report_outsiders(actor, community, sheet, outsiders, report)
    report.unchanged = sum(1 for line in reading.unchanged if line not in bad_lines)
    report.created, report.updated = len(plan.creates), len(plan.updates)
    report.households_created = len(plan.new_households)
    return plan


def _outsiders_refused(actor, community: Community, sheet, plan: _LedgerPlan, report: LedgerReport) -> bool:
    """After the document index refused the new persons: report those registered in another
    community, as a preview would have; whether there were any."""
    registered = _registered_elsewhere([entry for entry, _household in plan.creates])
    outsiders = [(entry, registered[key]) for entry, _household in plan.creates
                 if (key := (entry.data.id_type, entry.data.id_number)) in registered
                 and registered[key][_COMMUNITY] != community.id]
    if outsiders:
        _report_outsiders(actor, community, sheet, outsiders, report)
    return bool(outsiders)


# Writing the plan ---------------------------------------------------------------------------

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
    return {key: household.pk for household, key in zip(households, plan.new_households, strict=True)}


def _set_ledger_tags(pairs: list[tuple[int, tuple]], replace: bool) -> None:
    if replace:
        ids = [person_id for person_id, _tags in pairs]
        for start in range(0, len(ids), LEDGER_CHUNK):
            PersonTag.objects.filter(person_id__in=ids[start:start + LEDGER_CHUNK]).delete()
    insert_rows(PersonTag, ("person_id", "tag"), [(person_id, tag) for person_id, tags in pairs for tag in tags])


_CREATED_COLUMNS = ("community_id", "household_id", "created_at", "updated_at", *STORED_FIELDS, *SEARCH_KEY_FIELDS)


def _created_ids(community: Community, created_at) -> dict[tuple, int]:
    """The ids the database gave the new persons: every row of one import carries the same
    created_at, so one query finds them, keyed by document (a row of another import with the very
    same timestamp would only add keys nobody asks for)."""
    rows = Person.objects.filter(community=community, created_at=created_at).values_list("id", "id_type", "id_number")
    return {(id_type, number): pk for pk, id_type, number in rows.iterator(chunk_size=10000)}


def _audit_created(actor, community: Community, created_at) -> None:
    """One CREATE event for each person just stored, written by the database from their rows
    (found by the import's created_at, as `_created_ids` finds them)."""
    person = {name: rawsql.column(Person, name) for name in ("id", "name", "community", "created_at")}
    statement = audit.insert_select_sql(
        event="created", object_id=f"CAST(p.{person['id']} AS text)", object_repr=f"p.{person['name']}",
        community=f"p.{person['community']}",
        source=f"{rawsql.table(Person)} p WHERE p.{person['community']} = %(community)s"
               f" AND p.{person['created_at']} = %(created_at)s")
    params = audit.insert_select_params(actor=actor, object_type="person", object_repr="",
                                        events={"created": (audit.Action.CREATE, [*PERSON_FIELDS, "tags"])})
    params.update(community=community.id, created_at=rawsql.db_value(Person, "created_at", created_at))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _create_ledger_persons(actor, community: Community, plan: _LedgerPlan, household_id) -> None:
    """Insert the new persons in one stream, then their tags and one AuditEvent each."""
    now = timezone.now()
    insert_rows(Person, _CREATED_COLUMNS, (
        (community.id, household_id(ref), now, now, *stored_fields_of(entry.data),
         *search_keys(entry.data.name, entry.data.id_number, entry.data.phone))
        for entry, ref in plan.creates))
    tagged = [entry.data for entry, _ref in plan.creates if entry.data.tags]
    if tagged:
        ids = _created_ids(community, now)
        _set_ledger_tags([(ids[(data.id_type, data.id_number)], data.tags) for data in tagged], replace=False)
    _audit_created(actor, community, now)


def _ledger_write(actor, community: Community, plan: _LedgerPlan) -> None:
    """Write the plan in batches: households, new persons, changed persons, tags."""
    new_households = _create_households(plan) if plan.new_households else {}

    def household_id(ref):
        return new_households[ref] if isinstance(ref, tuple) else ref

    if plan.creates:
        _create_ledger_persons(actor, community, plan, household_id)
    if not plan.updates:
        return
    _update_ledger_persons(plan.updates, household_id)
    audit.record_many(actor=actor, action=audit.Action.UPDATE, object_type="person", community_id=community.id,
                      objects=((u.person_id, u.data.name, [*u.changed, *(["tags"] if u.tags_changed else [])])
                               for u in plan.updates))


def _update_ledger_persons(updates: list[_LedgerUpdate], household_id) -> None:
    """Set the changed fields (and the search keys that follow them) of every updated person in a
    few statements, then replace the tags that changed."""
    changed = [update for update in updates if update.changed]
    columns = sorted({"household_id" if name == "household" else name for u in changed for name in u.changed})
    if changed:
        now, rows = timezone.now(), []
        for update in changed:
            values = dict(zip(_COMPARED_FIELDS, update.stored, strict=True))
            for name in update.changed:
                if name == "household":
                    values["household_id"] = household_id(update.household)
                else:
                    values[name] = getattr(update.data, name)
            pinyin, initials, _id_last4, phone_last4 = search_keys(values["name"], values["id_number"], values["phone"])
            rows.append((update.person_id, *(values[column] for column in columns), pinyin, initials, phone_last4, now))
        update_rows(Person, "id", (*columns, "name_pinyin", "name_initials", "phone_last4", "updated_at"), rows)
    _set_ledger_tags([(u.person_id, u.data.tags) for u in updates if u.tags_changed], replace=True)


def ledger_import(*, actor, community: Community, file_name: str, data: bytes, dry_run: bool = False,
                  progress: Callable[..., None] | None = None) -> LedgerReport:
    """Import a ledger file: all rows or none.

    Every row is validated and compared with the registry (loaded first, in a few queries); a
    preview (dry_run) stops there and reports. A commit does this under a lock of the community
    row, so two imports of one file run one after the other and the second finds nothing to
    change, and writes the differences in batches only when no row has a problem.
    `progress(step, rows, total)` hears of the rows read, checked and written as they go.
    """
    _require_ledger_importer(actor, community)
    with _collector_paused():
        return _ledger_import(actor, community, file_name, data, dry_run, progress)


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector for the import, when it runs.

    An import keeps hundreds of thousands of small objects alive (cells, rows, the registry's
    tuples), and each collection their allocation triggers walks all of them again: that doubles
    the time of the pass over the rows. Rows make no reference cycles, so little garbage waits for
    the collector meanwhile. An import running beside this one may resume it early, which only
    costs this one its speed.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _ledger_import(actor, community: Community, file_name: str, data: bytes, dry_run: bool, progress) -> LedgerReport:
    sheet = ledger.read_ledger(file_name, data)
    report = LedgerReport(rows=len(sheet.rows), unknown_columns=sheet.unknown_columns, dry_run=dry_run)
    if progress:
        progress("read", len(sheet.rows), len(sheet.rows))
    if dry_run:
        _ledger_plan(actor, community, sheet, report, progress, look_elsewhere=True)
    else:
        with transaction.atomic():
            Community.objects.select_for_update().get(pk=community.pk)
            plan = _ledger_plan(actor, community, sheet, report, progress, look_elsewhere=False)
            if report.ok:
                _commit(actor, community, sheet, plan, report, file_name)
            if not report.ok:
                report.created = report.updated = report.unchanged = report.households_created = 0
    report.problems.sort(key=lambda problem: problem.line)
    if progress and report.ok and not dry_run:
        progress("written", report.rows)
    return report


def _commit(actor, community: Community, sheet, plan: _LedgerPlan, report: LedgerReport, file_name: str) -> None:
    """Write the plan. A file naming people registered in other communities is refused by the
    document index (which a preview had looked them up in, so a commit rarely meets one) and
    then reported, having written nothing."""
    try:
        with transaction.atomic():
            _ledger_write(actor, community, plan)
    except IntegrityError:
        if _outsiders_refused(actor, community, sheet, plan, report):
            return
        raise
    if report.created or report.updated:
        care_tasks_follow_community(actor=actor, community=community)
    audit.record(actor=actor, action=audit.Action.IMPORT, obj=community, object_repr=_ledger_summary(file_name, report),
                 fields=list(sheet.headers), community_id=community.id)


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
    job = ImportJob.objects.create(community=community, actor=actor, origin=job_origin(actor),
                                   file_name=file_name[:255], dry_run=dry_run, upload=data)
    job_enqueue(job)
    return job


def ledger_import_job_commit(*, actor, preview: ImportJob) -> ImportJob:
    """Import the file of a clean preview; the preview gives its file up, so it is committed once."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=preview.pk).first()
        clean_preview = (locked is not None and locked.dry_run and locked.status == ImportJob.Status.DONE
                         and locked.report.get("ok"))
        if not clean_preview:
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
