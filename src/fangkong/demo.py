"""The demo street, built the same way on every machine.

中专路街道 › 春雨社区 › 驰誉小区 follows the field report in seeds/000 (3 buildings, 144
households, 252 people and its special populations and venues); 安国路社区 with its 13
compounds follows seeds/001 and sits in the same street, so scope is visible. Every name,
ID number and phone is fictitious: IDs carry valid GB 11643 check characters, built by
compose_resident_id from fixed regions and dates, and a fixed random seed makes each run
produce the same rows.
"""

import datetime
import random
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.accounts.services import user_create
from fangkong.core import audit
from fangkong.core.actors import bind_context
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import compose_resident_id
from fangkong.people.models import Person, PersonTag, Residency, Tag
from fangkong.people.services import apply_person_data, clean_person_data
from fangkong.places import services as places
from fangkong.places.models import Household, Street, Venue

STREET_NAME = "中专路街道"
CHUNYU_NAME = "春雨社区"
ANGUO_NAME = "安国路社区"
CHIYU_COMPOUND = "驰誉小区"
PASSWORD = "fangkong-demo"
RESIDENT_PHONE_NOTE = "验证码见服务器日志"
REFERENCE_DATE = datetime.date(2022, 11, 13)
RETURNED_NOTE = "其他原因返回小区"
STUDENT_NOTE = "高校放假返家"

CHIYU_PERSONS = 252
ANGUO_PERSONS = 200
CHIYU_TAGS = {Tag.CHRONIC_SEVERE: 7, Tag.PREGNANT: 1, Tag.CHEMOTHERAPY: 1, Tag.DISABLED: 6,
              Tag.KEY_WORKER: 9, Tag.RETURNING_STUDENT: 6}
CHIYU_RETURNED = 8
ANGUO_TAGS = {Tag.ELDERLY_ALONE: 3, Tag.CHRONIC_SEVERE: 2, Tag.DIALYSIS: 1, Tag.INFANT: 2}

ANGUO_COMPOUNDS = ("建设小区", "东关小区", "安国花园", "玉都家园", "雪枫苑", "福康小区", "和平小区",
                   "幸福里", "春晖小区", "锦绣园", "阳光小区", "金桂苑", "园丁小区")

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋"
            "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟")
MALE_GIVEN = ("建国", "志强", "海军", "立新", "国庆", "振华", "文博", "浩然", "子轩", "宇航", "晓东", "明亮",
              "永刚", "德福", "俊杰", "鹏飞", "天宇", "家豪", "成龙", "长青", "卫东", "春生", "思远", "亮",
              "勇", "军", "斌", "磊", "涛", "伟")
FEMALE_GIVEN = ("秀英", "桂兰", "玉梅", "丽娟", "春燕", "海燕", "晓红", "淑珍", "雅琴", "婷婷", "欣怡", "梦瑶",
                "子涵", "思雨", "佳怡", "美玲", "凤霞", "红梅", "静", "敏", "丽", "霞", "娜", "芳", "艳",
                "慧敏", "雨萱", "诗涵", "冬梅", "文静")
PHONE_PREFIXES = ("139", "158", "186", "137", "152", "189", "135", "177")
RESIDENCY_WEIGHTS = ((Residency.REGISTERED, 55), (Residency.RESIDENT, 30), (Residency.FLOATING, 12),
                     (Residency.VISITOR, 3))


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


def plan_households(*, seed: int, region: str, addresses: list[tuple[str, str, str]], persons: int) -> list[PlannedHousehold]:
    """Fill the given (building, unit, room) addresses with exactly `persons` people."""
    rng = random.Random(seed)
    maker = _PersonMaker(rng, region)
    sizes = _household_sizes(rng, len(addresses), persons)
    return [PlannedHousehold(building=b, unit=u, room=r, members=_household_members(maker, size))
            for (b, u, r), size in zip(addresses, sizes)]


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
    wanted = sorted([*counts.items(), *([("returned", returned)] if returned else [])], key=lambda kv: len(pools[kv[0]]))
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
        person.notes = "国际蒙医医院护工/保洁"


def chiyu_addresses() -> list[tuple[str, str, str]]:
    """3 buildings × 2 units × 6 floors × 4 rooms = 144 households."""
    return [(str(b), str(u), f"{floor}{room:02d}") for b in range(1, 4) for u in (1, 2)
            for floor in range(1, 7) for room in range(1, 5)]


def anguo_addresses() -> list[tuple[str, str, str]]:
    """Each of the 13 compounds: building 1, unit 1, 4 floors × 2 rooms."""
    return [(compound, "1", f"{floor}{room:02d}") for compound in ANGUO_COMPOUNDS
            for floor in range(1, 5) for room in (1, 2)]


def plan_chiyu() -> list[PlannedHousehold]:
    households = plan_households(seed=20221113, region="150105", addresses=chiyu_addresses(), persons=CHIYU_PERSONS)
    assign_tags(households, seed=1113, counts=CHIYU_TAGS, returned=CHIYU_RETURNED)
    return households


def plan_anguo() -> list[PlannedHousehold]:
    households = plan_households(seed=20200124, region="411324", addresses=anguo_addresses(), persons=ANGUO_PERSONS)
    assign_tags(households, seed=124, counts=ANGUO_TAGS)
    return households


SHOPS = ("便民超市", "蔬菜水果店", "平价药店", "粮油店", "早餐店", "面馆", "理发店", "五金店", "烟酒店", "打印店",
         "干洗店", "母婴店", "手机维修", "肉铺", "烧烤店")
DRIVING_SCHOOLS = ("通达驾校", "安行驾校", "顺风驾校", "捷安驾校", "明途驾校")
OPEN_SHOPS = {"便民超市", "蔬菜水果店", "平价药店", "粮油店", "肉铺"}


def _venues(community, compound, grid) -> list[dict]:
    """The high-risk places of the field report: the ward, 5 driving schools, 35 shops, the waste station."""
    base = {"community": community, "compound": compound, "grid": grid}
    venues = [dict(base, name="内蒙古国际蒙医医院住院区", kind=Venue.Kind.HOSPITAL_WARD, status=Venue.Status.LIMITED,
                   notes="医护人员与转运病人点对点闭环管理"),
              dict(base, name="医疗垃圾处理站", kind=Venue.Kind.WASTE_STATION, status=Venue.Status.OPEN)]
    venues += [dict(base, name=name, kind=Venue.Kind.DRIVING_SCHOOL, status=Venue.Status.CLOSED) for name in DRIVING_SCHOOLS]
    for index in range(35):
        label = SHOPS[index % len(SHOPS)]
        venues.append(dict(base, name=f"{label}(底商{index + 1}号)", kind=Venue.Kind.SHOP,
                           status=Venue.Status.OPEN if label in OPEN_SHOPS and index < len(SHOPS) else Venue.Status.CLOSED))
    return venues


@dataclass(frozen=True)
class SignIn:
    role: str
    username: str
    password: str
    scope: str


def sign_ins() -> list[SignIn]:
    """The demo accounts as `make run` and `fangkong demo` print them."""
    resident = User.objects.filter(username="jumin", role=Role.RESIDENT).first()
    phone = resident.phone if resident else ""
    rows = [("系统管理员", "admin", "全部"), (Role.STREET_ADMIN.label, "jiedao", STREET_NAME),
            (Role.COMMUNITY_STAFF.label, "chunyu", CHUNYU_NAME), (Role.COMMUNITY_STAFF.label, "anguo", ANGUO_NAME),
            (Role.GRID_LEADER.label, "wangge1", f"{CHUNYU_NAME} 第一网格(1、2号楼)"),
            (Role.GRID_MEMBER.label, "wangge2", f"{CHUNYU_NAME} 第二网格(3号楼)"),
            (Role.MEDIC.label, "yihu", CHUNYU_NAME), (Role.POLICE.label, "minjing", CHUNYU_NAME),
            (Role.VOLUNTEER.label, "zhiyuan", CHUNYU_NAME)]
    table = [SignIn(str(role), username, PASSWORD, scope) for role, username, scope in rows]
    table.append(SignIn(str(Role.RESIDENT.label), phone, RESIDENT_PHONE_NOTE, f"{CHIYU_COMPOUND} 本户"))
    return table


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_sign_ins(rows: list[SignIn]) -> str:
    header = SignIn("角色", "用户名/手机号", "密码", "范围")
    table = [header, *rows]
    widths = [max(_width(getattr(r, f)) for r in table) for f in ("role", "username", "password")]

    def line(row: SignIn) -> str:
        cells = [row.role, row.username, row.password]
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)) + "  " + row.scope

    return "\n".join([line(header), *(line(r) for r in rows)])


DEMO_USERNAMES = ("admin", "jiedao", "chunyu", "anguo", "wangge1", "wangge2", "yihu", "minjing", "zhiyuan", "jumin")


def demo_loaded() -> bool:
    return Street.objects.filter(name=STREET_NAME).exists()


@transaction.atomic
def demo_load() -> bool:
    """Build the demo street; False (and nothing written) when it is there already."""
    if demo_loaded():
        return False
    taken = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
    if taken:
        raise DomainError(_("用户名已被占用,未导入演示数据:%(names)s") % {"names": "、".join(taken)}, code="duplicate")
    admin = user_create(actor=None, username="admin", password=PASSWORD, display_name="系统管理员", superuser=True)
    bind_context(admin, via="cli", cli_label="demo")
    street = places.street_create(actor=admin, name=STREET_NAME, code="150105006")
    chunyu = _build_chunyu(admin, street)
    anguo = _build_anguo(admin, street)
    _create_accounts(admin, street, chunyu, anguo)
    from fangkong.demo_following import load_following
    from fangkong.demo_outbreak import load_outbreak
    from fangkong.demo_testing import load_testing

    load_following(admin, street, chunyu, anguo)
    load_outbreak(admin, street, chunyu["community"])
    load_testing(admin, chunyu["community"])
    return True


def _build_chunyu(admin, street):
    community = places.community_create(actor=admin, street=street, name=CHUNYU_NAME)
    grids = [places.grid_create(actor=admin, community=community, name=name) for name in ("第一网格", "第二网格")]
    compound = places.compound_create(actor=admin, community=community, name=CHIYU_COMPOUND, address="赛罕区中专路")
    for number in ("1", "2", "3"):
        building = places.building_create(actor=admin, compound=compound, grid=grids[0] if number != "3" else grids[1],
                                          number=number)
        places.building_generate_households(actor=admin, building=building, floors=6, units=2, rooms_per_floor=4)
    for values in _venues(community, compound, grids[0]):
        places.venue_create(actor=admin, **values)
    rooms = {(h.building.number, h.unit.number, h.room): h
             for h in Household.objects.filter(compound=compound).select_related("building", "unit")}
    _create_people(admin, community, [(rooms[(h.building, h.unit, h.room)], h) for h in plan_chiyu()])
    return {"community": community, "grids": grids}


def _build_anguo(admin, street):
    community = places.community_create(actor=admin, street=street, name=ANGUO_NAME)
    grids = [places.grid_create(actor=admin, community=community, name=name) for name in ("第一网格", "第二网格", "第三网格")]
    rooms = {}
    for index, name in enumerate(ANGUO_COMPOUNDS):
        compound = places.compound_create(actor=admin, community=community, name=name)
        building = places.building_create(actor=admin, compound=compound, grid=grids[index % 3], number="1")
        places.building_generate_households(actor=admin, building=building, floors=4, units=1, rooms_per_floor=2)
        rooms.update({(name, "1", h.room): h for h in Household.objects.filter(building=building)})
    _create_people(admin, community, [(rooms[(h.building, h.unit, h.room)], h) for h in plan_anguo()])
    return {"community": community, "grids": grids}


def _create_people(admin, community, placed: list) -> None:
    """Bulk-create the planned people with the same validation and search keys as person_create."""
    persons, tags = [], []
    for household, planned in placed:
        for member in planned.members:
            data = clean_person_data(name=member.name, id_number=member.id_number, phone=member.phone,
                                     relationship=member.relationship, residency=member.residency,
                                     notes=member.notes, tags=member.tags)
            person = Person(community=community, household=household)
            apply_person_data(person, data)
            persons.append(person)
            tags.append(data.tags)
    Person.objects.bulk_create(persons, batch_size=500)
    PersonTag.objects.bulk_create([PersonTag(person=p, tag=t) for p, ts in zip(persons, tags) for t in ts], batch_size=500)
    audit.record(actor=admin, action=audit.Action.IMPORT, object_type="person", community_id=community.id,
                 object_repr=_("演示数据:%(n)d 人") % {"n": len(persons)}, fields=["name", "id_number", "phone", "tags"])


def _create_accounts(admin, street, chunyu, anguo) -> None:
    community_a, grid_1, grid_2 = chunyu["community"], chunyu["grids"][0], chunyu["grids"][1]
    staff = [("jiedao", Role.STREET_ADMIN, "街道专班", {"street": street}),
             ("chunyu", Role.COMMUNITY_STAFF, "春雨社区工作人员", {"communities": [community_a]}),
             ("anguo", Role.COMMUNITY_STAFF, "安国路社区工作人员", {"communities": [anguo["community"]]}),
             ("wangge1", Role.GRID_LEADER, "第一网格网格长", {"grids": [grid_1]}),
             ("wangge2", Role.GRID_MEMBER, "第二网格网格员", {"grids": [grid_2]}),
             ("yihu", Role.MEDIC, "社区医护", {"communities": [community_a]}),
             ("minjing", Role.POLICE, "社区民警", {"communities": [community_a]}),
             ("zhiyuan", Role.VOLUNTEER, "下沉干部志愿者", {"communities": [community_a]})]
    for username, role, display_name, scope in staff:
        user_create(actor=admin, username=username, password=PASSWORD, role=role, display_name=display_name, **scope)
    resident = (Person.objects.filter(community=community_a, relationship="户主").exclude(phone="")
                .order_by("household__building__number", "household__unit__number", "household__room").first())
    user_create(actor=admin, username="jumin", password=PASSWORD, role=Role.RESIDENT, display_name=resident.name,
                phone=resident.phone, person=resident)
