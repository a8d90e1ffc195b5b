"""The demo's people, planned without the database: the same households and people on every machine.

Every name, ID number and phone is fictitious: IDs carry valid GB 11643 check characters, built by
compose_resident_id from fixed regions and dates, and a fixed random seed makes each run draw the
same people, give the same people their tags and leave the same people without a phone.
"""

import datetime
import random
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compose_resident_id
from fangkong.demo.constants import (
    ANGUO_COMPOUNDS,
    ANGUO_FLOORS,
    ANGUO_PERSONS,
    ANGUO_REGION,
    ANGUO_ROOMS_PER_FLOOR,
    ANGUO_SEED,
    ANGUO_TAG_SEED,
    ANGUO_TAGS,
    CHIYU_BUILDINGS,
    CHIYU_FLOORS,
    CHIYU_PERSONS,
    CHIYU_REGION,
    CHIYU_RETURNED,
    CHIYU_ROOMS_PER_FLOOR,
    CHIYU_SEED,
    CHIYU_TAG_SEED,
    CHIYU_TAGS,
    CHIYU_UNITS,
    FEMALE_GIVEN,
    KEY_WORKER_NOTE,
    MALE_GIVEN,
    PHONE_PREFIXES,
    REFERENCE_DATE,
    RESIDENCY_WEIGHTS,
    RETURNED_NOTE,
    STUDENT_NOTE,
    SURNAMES,
)
from fangkong.people.models import Residency, Tag


@dataclass
class PlannedPerson:
    name: str
    id_number: str
    sex: str
    birth_date: datetime.date
    phone: str
    relationship: str
    residency: str
    notes: str = ""
    tags: list = field(default_factory=list)

    @property
    def age(self) -> int:
        years = REFERENCE_DATE.year - self.birth_date.year
        return years - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (self.birth_date.month, self.birth_date.day))


@dataclass
class PlannedHousehold:
    building: str
    unit: str
    room: str
    members: list = field(default_factory=list)


class _PersonMaker:
    """Draws fictitious people from one seeded generator; ID sequences and phones never repeat."""

    def __init__(self, rng: random.Random, region: str):
        self.rng = rng
        self.region = region
        self.count = 0
        self.phones = set()

    def person(self, *, sex: str, age: int, relationship: str, surname: str | None = None) -> PlannedPerson:
        rng = self.rng
        birth = datetime.date(REFERENCE_DATE.year - age - 1, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        birth = min(birth, REFERENCE_DATE - datetime.timedelta(days=30))
        self.count += 1
        sequence = 2 * (self.count % 500) + (1 if sex == "M" else 0)
        given = rng.choice(MALE_GIVEN if sex == "M" else FEMALE_GIVEN)
        return PlannedPerson(
            name=(surname or rng.choice(SURNAMES)) + given,
            id_number=compose_resident_id(self.region, birth, sequence), sex=sex, birth_date=birth,
            phone=self._phone() if age >= 16 else "", relationship=relationship,
            residency=rng.choices([r for r, _w in RESIDENCY_WEIGHTS], [w for _r, w in RESIDENCY_WEIGHTS])[0])

    def _phone(self) -> str:
        while True:
            phone = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


def _other(sex: str) -> str:
    return "F" if sex == "M" else "M"


def _household_members(maker: _PersonMaker, size: int) -> list[PlannedPerson]:
    """A head of household, then a spouse, then children or a parent, with plausible ages."""
    rng = maker.rng
    sex = rng.choice("MF")
    head = maker.person(sex=sex, age=rng.randint(24, 84), relationship="户主")
    members = [head]
    if size >= 2:
        members.append(maker.person(sex=_other(sex), age=max(20, head.age + rng.randint(-5, 5)), relationship="配偶"))
    parent_added = False
    for _index in range(size - len(members)):
        if head.age <= 50 and not parent_added and rng.random() < 0.35:
            parent_sex = rng.choice("MF")
            members.append(maker.person(sex=parent_sex, age=head.age + rng.randint(24, 32),
                                        relationship="父亲" if parent_sex == "M" else "母亲",
                                        surname=head.name[0] if parent_sex == "M" else None))
            parent_added = True
            continue
        child_sex = rng.choice("MF")
        age = max(0, head.age - rng.randint(22, 34))
        father = members[1] if sex == "F" and members[1:] and members[1].relationship == "配偶" else head
        members.append(maker.person(sex=child_sex, age=age, relationship="子" if child_sex == "M" else "女",
                                    surname=father.name[0]))
    return members


def _household_sizes(rng: random.Random, households: int, persons: int) -> list[int]:
    sizes = [1] * households
    for _index in range(persons - households):
        candidates = [i for i, size in enumerate(sizes) if size < 5]
        sizes[rng.choice(candidates)] += 1
    return sizes


def plan_households(*, seed: int, region: str, addresses: list[tuple[str, str, str]],
                    persons: int) -> list[PlannedHousehold]:
    """Fill the given (building, unit, room) addresses with exactly `persons` people."""
    rng = random.Random(seed)
    maker = _PersonMaker(rng, region)
    sizes = _household_sizes(rng, len(addresses), persons)
    return [PlannedHousehold(building=b, unit=u, room=r, members=_household_members(maker, size))
            for (b, u, r), size in zip(addresses, sizes, strict=True)]


def _tag_pools(people: list[PlannedPerson]) -> dict[str, list[int]]:
    def where(rule):
        return [i for i, p in enumerate(people) if rule(p)]

    return {
        Tag.CHRONIC_SEVERE: where(lambda p: p.age >= 55),
        Tag.PREGNANT: where(lambda p: p.sex == "F" and 22 <= p.age <= 38 and p.relationship in {"户主", "配偶"}),
        Tag.CHEMOTHERAPY: where(lambda p: p.age >= 40),
        Tag.DISABLED: where(lambda p: p.age >= 18),
        Tag.KEY_WORKER: where(lambda p: 20 <= p.age <= 55),
        Tag.RETURNING_STUDENT: where(lambda p: 17 <= p.age <= 24 and p.relationship in {"子", "女"}),
        Tag.ELDERLY_ALONE: where(lambda p: p.age >= 70 and p.relationship == "户主"),
        Tag.DIALYSIS: where(lambda p: p.age >= 30),
        Tag.INFANT: where(lambda p: p.age <= 2),
        "returned": where(lambda p: p.age >= 18),
    }


def assign_tags(households: list[PlannedHousehold], *, seed: int, counts: dict, returned: int = 0) -> None:
    """Give exactly counts[tag] people each tag, at most one tag per person, and mark `returned`
    people as back for other reasons. Scarcest pools are served first so every count is met."""
    rng = random.Random(seed)
    people = [p for h in households for p in h.members]
    pools = _tag_pools(people)
    taken = set()
    wanted = sorted([*counts.items(), *([("returned", returned)] if returned else [])],
                    key=lambda kv: len(pools[kv[0]]))
    for tag, count in wanted:
        free = [i for i in pools[tag] if i not in taken]
        if len(free) < count:
            raise DomainError(_("演示数据无法凑足标签 %(tag)s") % {"tag": tag})
        for index in rng.sample(free, count):
            taken.add(index)
            _mark(people[index], tag)


def _mark(person: PlannedPerson, tag: str) -> None:
    if tag == "returned":
        person.notes = RETURNED_NOTE
        return
    person.tags.append(tag)
    if tag == Tag.RETURNING_STUDENT:
        person.notes = STUDENT_NOTE
    elif tag == Tag.KEY_WORKER:
        person.residency = Residency.FLOATING
        person.notes = KEY_WORKER_NOTE


def chiyu_addresses() -> list[tuple[str, str, str]]:
    """3 buildings × 2 units × 6 floors × 4 rooms = 144 households."""
    return [(building, str(unit), f"{floor}{room:02d}") for building in CHIYU_BUILDINGS
            for unit in range(1, CHIYU_UNITS + 1) for floor in range(1, CHIYU_FLOORS + 1)
            for room in range(1, CHIYU_ROOMS_PER_FLOOR + 1)]


def anguo_addresses() -> list[tuple[str, str, str]]:
    """Each of the 13 compounds: building 1, unit 1, 4 floors × 2 rooms."""
    return [(compound, "1", f"{floor}{room:02d}") for compound in ANGUO_COMPOUNDS
            for floor in range(1, ANGUO_FLOORS + 1) for room in range(1, ANGUO_ROOMS_PER_FLOOR + 1)]


def plan_chiyu() -> list[PlannedHousehold]:
    households = plan_households(seed=CHIYU_SEED, region=CHIYU_REGION, addresses=chiyu_addresses(),
                                 persons=CHIYU_PERSONS)
    assign_tags(households, seed=CHIYU_TAG_SEED, counts=CHIYU_TAGS, returned=CHIYU_RETURNED)
    return households


def plan_anguo() -> list[PlannedHousehold]:
    households = plan_households(seed=ANGUO_SEED, region=ANGUO_REGION, addresses=anguo_addresses(),
                                 persons=ANGUO_PERSONS)
    assign_tags(households, seed=ANGUO_TAG_SEED, counts=ANGUO_TAGS)
    return households
