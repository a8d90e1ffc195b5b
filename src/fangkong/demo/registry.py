"""The demo's registry: the street, its places and venues, the planned people and the staff accounts."""

from typing import NamedTuple

from django.utils.translation import gettext as _

from fangkong.accounts.models import Role
from fangkong.accounts.services import user_create
from fangkong.core import audit
from fangkong.demo.constants import (
    ANGUO_COMPOUNDS,
    ANGUO_FLOORS,
    ANGUO_GRIDS,
    ANGUO_NAME,
    ANGUO_ROOMS_PER_FLOOR,
    CHIYU_ADDRESS,
    CHIYU_COMPOUND,
    CHIYU_FLOORS,
    CHIYU_GRIDS,
    CHIYU_ROOMS_PER_FLOOR,
    CHIYU_UNITS,
    CHUNYU_NAME,
    DRIVING_SCHOOLS,
    HOSPITAL_WARD,
    HOSPITAL_WARD_NOTE,
    OPEN_SHOPS,
    PASSWORD,
    RESIDENT_USERNAME,
    SHOP_COUNT,
    SHOPS,
    STAFF_ACCOUNTS,
    STREET_CODE,
    STREET_NAME,
    WASTE_STATION,
)
from fangkong.demo.plan import plan_anguo, plan_chiyu
from fangkong.people.models import Person, PersonTag
from fangkong.people.services import apply_person_data, clean_person_data
from fangkong.places import services as places
from fangkong.places.models import Community, Household, Street, Venue


class DemoStreet(NamedTuple):
    street: Street
    chunyu: Community
    anguo: Community


def load_registry(admin) -> DemoStreet:
    street = places.street_create(actor=admin, name=STREET_NAME, code=STREET_CODE)
    chunyu, chunyu_grids = _build_chunyu(admin, street)
    anguo = _build_anguo(admin, street)
    _create_accounts(admin, street, chunyu, chunyu_grids, anguo)
    return DemoStreet(street, chunyu, anguo)


def _build_chunyu(admin, street) -> tuple[Community, dict]:
    """春雨社区 with 驰誉小区, its venues and people; the grids by name."""
    community = places.community_create(actor=admin, street=street, name=CHUNYU_NAME)
    grids = {name: places.grid_create(actor=admin, community=community, name=name) for name in CHIYU_GRIDS}
    compound = places.compound_create(actor=admin, community=community, name=CHIYU_COMPOUND, address=CHIYU_ADDRESS)
    for grid_name, numbers in CHIYU_GRIDS.items():
        for number in numbers:
            building = places.building_create(actor=admin, compound=compound, grid=grids[grid_name], number=number)
            places.building_generate_households(actor=admin, building=building, floors=CHIYU_FLOORS,
                                                units=CHIYU_UNITS, rooms_per_floor=CHIYU_ROOMS_PER_FLOOR)
    venue_grid = next(iter(grids.values()))
    for values in _venues(community, compound, venue_grid):
        places.venue_create(actor=admin, **values)
    rooms = {(h.building.number, h.unit.number, h.room): h
             for h in Household.objects.filter(compound=compound).select_related("building", "unit")}
    _create_people(admin, community, [(rooms[(h.building, h.unit, h.room)], h) for h in plan_chiyu()])
    return community, grids


def _build_anguo(admin, street) -> Community:
    """安国路社区: each compound one building, the buildings dealt to the grids in turn; then its people."""
    community = places.community_create(actor=admin, street=street, name=ANGUO_NAME)
    grids = [places.grid_create(actor=admin, community=community, name=name) for name in ANGUO_GRIDS]
    rooms = {}
    for index, name in enumerate(ANGUO_COMPOUNDS):
        compound = places.compound_create(actor=admin, community=community, name=name)
        building = places.building_create(actor=admin, compound=compound, grid=grids[index % len(grids)], number="1")
        places.building_generate_households(actor=admin, building=building, floors=ANGUO_FLOORS, units=1,
                                            rooms_per_floor=ANGUO_ROOMS_PER_FLOOR)
        rooms.update({(name, "1", h.room): h for h in Household.objects.filter(building=building)})
    _create_people(admin, community, [(rooms[(h.building, h.unit, h.room)], h) for h in plan_anguo()])
    return community


def _venues(community, compound, grid) -> list[dict]:
    """The high-risk places of the field report: the ward, 5 driving schools, 35 shops, the waste station."""
    base = {"community": community, "compound": compound, "grid": grid}
    venues = [dict(base, name=HOSPITAL_WARD, kind=Venue.Kind.HOSPITAL_WARD, status=Venue.Status.LIMITED,
                   notes=HOSPITAL_WARD_NOTE),
              dict(base, name=WASTE_STATION, kind=Venue.Kind.WASTE_STATION, status=Venue.Status.OPEN)]
    venues += [dict(base, name=name, kind=Venue.Kind.DRIVING_SCHOOL, status=Venue.Status.CLOSED)
               for name in DRIVING_SCHOOLS]
    for index in range(SHOP_COUNT):
        label = SHOPS[index % len(SHOPS)]
        is_open = label in OPEN_SHOPS and index < len(SHOPS)
        venues.append(dict(base, name=f"{label}(底商{index + 1}号)", kind=Venue.Kind.SHOP,
                           status=Venue.Status.OPEN if is_open else Venue.Status.CLOSED))
    return venues


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
    PersonTag.objects.bulk_create([PersonTag(person=p, tag=t) for p, ts in zip(persons, tags, strict=True) for t in ts],
                                  batch_size=500)
    audit.record(actor=admin, action=audit.Action.IMPORT, object_type="person", community_id=community.id,
                 object_repr=_("演示数据:%(n)d 人") % {"n": len(persons)},
                 fields=["name", "id_number", "phone", "tags"])


def _create_accounts(admin, street, chunyu, chunyu_grids: dict, anguo) -> None:
    """The staff of STAFF_ACCOUNTS bound to their scope, and the resident of the first 驰誉小区
    household with a phone."""
    scopes = {"street": {"street": street}, "chunyu": {"communities": [chunyu]}, "anguo": {"communities": [anguo]},
              **{name: {"grids": [grid]} for name, grid in chunyu_grids.items()}}
    for account in STAFF_ACCOUNTS:
        user_create(actor=admin, username=account.username, password=PASSWORD, role=account.role,
                    display_name=account.display_name, **scopes[account.scope])
    resident = (Person.objects.filter(community=chunyu, relationship="户主").exclude(phone="")
                .order_by("household__building__number", "household__unit__number", "household__room").first())
    user_create(actor=admin, username=RESIDENT_USERNAME, password=PASSWORD, role=Role.RESIDENT,
                display_name=resident.name, phone=resident.phone, person=resident)
