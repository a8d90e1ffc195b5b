"""The demo street: what a visitor sees after `make run` must match the field report."""

import datetime

import pytest
from django.contrib.auth import authenticate
from django.utils import timezone

from fangkong import demo
from fangkong.accounts.models import Role, User
from fangkong.core.errors import DomainError
from fangkong.core.idnumbers import normalize_phone, parse_resident_id
from fangkong.core.models import AuditEvent
from fangkong.demo import constants
from fangkong.demo.plan import plan_chiyu
from fangkong.people.models import Person, PersonTag
from fangkong.places.models import Building, Community, Compound, Household, Street, Venue


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loaded(db):
    assert demo.demo_load() is True


def tag_counts(community_name):
    tags = PersonTag.objects.filter(person__community__name=community_name).values_list("tag", flat=True)
    return {tag: list(tags).count(tag) for tag in set(tags)}


def test_chiyu_compound_has_the_field_reports_households_people_and_special_populations(loaded):
    # Given the demo is loaded, when a visitor looks at 驰誉小区
    compound = Compound.objects.get(name=constants.CHIYU_COMPOUND)

    # then it has 3 buildings, 144 households and exactly 252 people
    assert Building.objects.filter(compound=compound).count() == 3
    assert Household.objects.filter(compound=compound).count() == 144
    assert Person.objects.filter(household__compound=compound).count() == 252
    # and exactly the special populations the report counts, nothing more
    assert tag_counts("春雨社区") == {"chronic_severe": 7, "pregnant": 1, "chemotherapy": 1, "disabled": 6,
                                      "key_worker": 9, "returning_student": 6}
    assert Person.objects.filter(household__compound=compound, notes=constants.RETURNED_NOTE).count() == 8


def test_chiyu_has_the_high_risk_venues_of_the_report(loaded):
    venues = Venue.objects.filter(compound__name=constants.CHIYU_COMPOUND)

    assert venues.filter(kind=Venue.Kind.HOSPITAL_WARD, name="内蒙古国际蒙医医院住院区").count() == 1
    assert venues.filter(kind=Venue.Kind.DRIVING_SCHOOL).count() == 5
    assert venues.filter(kind=Venue.Kind.SHOP).count() == 35
    assert venues.filter(kind=Venue.Kind.WASTE_STATION).count() == 1


def test_chunyu_has_two_grids_splitting_the_buildings(loaded):
    buildings = {b.number: b.grid.name for b in Building.objects.filter(compound__name=constants.CHIYU_COMPOUND)}

    assert buildings == {"1": "第一网格", "2": "第一网格", "3": "第二网格"}


def test_anguo_lies_in_the_same_street_with_13_compounds(loaded):
    anguo = Community.objects.get(name=constants.ANGUO_NAME)

    assert anguo.street.name == constants.STREET_NAME
    assert Community.objects.filter(street=anguo.street).count() == 2
    assert Compound.objects.filter(community=anguo).count() == 13
    assert Person.objects.filter(community=anguo).count() == constants.ANGUO_PERSONS


def test_every_demo_person_has_a_valid_id_agreeing_with_sex_and_birth_date(loaded):
    people = list(Person.objects.all())

    assert len({p.id_number for p in people}) == len(people)
    for person in people:
        parsed = parse_resident_id(person.id_number)
        assert (parsed.sex, parsed.birth_date) == (person.sex, person.birth_date)
        assert person.id_last4 == person.id_number[-4:]
        assert person.name_initials
        if person.phone:
            assert normalize_phone(person.phone) == person.phone
            assert person.phone_last4 == person.phone[-4:]


def test_every_household_has_a_head_and_known_relationships(loaded):
    relationships = set(Person.objects.values_list("relationship", flat=True))
    heads = Person.objects.filter(relationship="户主").values_list("household_id", flat=True)

    assert relationships <= {"户主", "配偶", "子", "女", "父亲", "母亲"}
    assert set(heads) == set(Household.objects.values_list("id", flat=True))


def test_the_demo_is_the_same_on_every_run():
    first = [(p.name, p.id_number, p.phone, p.tags) for h in plan_chiyu() for p in h.members]
    second = [(p.name, p.id_number, p.phone, p.tags) for h in plan_chiyu() for p in h.members]

    assert first == second


def test_loading_twice_changes_nothing(loaded):
    before = (Person.objects.count(), User.objects.count(), AuditEvent.objects.count(), Venue.objects.count())

    assert demo.demo_load() is False

    assert (Person.objects.count(), User.objects.count(), AuditEvent.objects.count(), Venue.objects.count()) == before


def test_demo_accounts_sign_in_and_see_only_their_scope(loaded):
    def visible(username):
        user = authenticate(username=username, password=constants.PASSWORD)
        assert user is not None, username
        return Person.objects.in_scope(user)

    assert visible("admin").count() == 452
    assert visible("jiedao").count() == 452
    assert visible("chunyu").count() == 252
    assert visible("anguo").count() == 200
    assert set(visible("wangge1").values_list("household__building__number", flat=True)) == {"1", "2"}
    assert set(visible("wangge2").values_list("household__building__number", flat=True)) == {"3"}
    for username in ("yihu", "minjing", "zhiyuan"):
        assert visible(username).count() == 252


def test_the_resident_account_is_a_chiyu_resident_signing_in_by_phone(loaded):
    resident = User.objects.get(role=Role.RESIDENT)

    assert resident.person.household.compound.name == constants.CHIYU_COMPOUND
    assert resident.phone == resident.person.phone
    assert Person.objects.in_scope(resident).count() == resident.person.household.members.count()


def test_the_sign_in_table_lists_every_role(loaded):
    table = demo.format_sign_ins(demo.sign_ins())

    for username in ("admin", "jiedao", "chunyu", "anguo", "wangge1", "wangge2", "yihu", "minjing", "zhiyuan"):
        assert username in table
    assert User.objects.get(role=Role.RESIDENT).phone in table
    assert constants.RESIDENT_PHONE_NOTE in table and constants.PASSWORD in table


def test_a_taken_demo_username_stops_the_demo_and_writes_nothing(db):
    User.objects.create_user("chunyu", password="something-else")

    with pytest.raises(DomainError, match="chunyu"):
        demo.demo_load()

    assert not Street.objects.exists()
    assert not Person.objects.exists()


def test_the_demo_shows_follow_up_work_in_progress(loaded):
    from fangkong.health.models import HealthAlert, Observation
    from fangkong.screening.models import Arrival, FollowUp, HouseholdVisit, VerificationItem

    # every colour is on the board, and exposure comes from the 湖北 risk area
    assert set(FollowUp.objects.values_list("risk_color", flat=True)) == {"red", "yellow", "blue", "green"}
    exposed = Arrival.objects.filter(exposed=True)
    assert exposed.filter(origin_code__startswith="42").count() == exposed.count() > 0
    # two returnees of 春雨社区 in home quarantine with the medic on their team, one 37.6 ℃ alert open
    observations = Observation.objects.filter(community__name="春雨社区", status="active", reason="arrival")
    assert observations.count() == 2 and {o.medic.username for o in observations} == {"yihu"}
    assert [a.reason for a in HealthAlert.objects.filter(handled_at=None)] == ["体温 37.6℃,咳嗽"]
    # a list of 10 rows, 8 found by ID, 3 answered; round 1 with 20 visits, 2 not reached
    items = VerificationItem.objects.all()
    assert (items.count(), items.filter(match_kind="id_number").count(), items.exclude(answer="").count()) == (10, 8, 3)
    visits = HouseholdVisit.objects.all()
    assert (visits.count(), visits.filter(method="not_reached").count()) == (20, 2)


def test_the_demo_replays_the_outbreak_of_chiyu(loaded):
    from fangkong.health.models import Case, Contact, Observation, Transfer
    from fangkong.volunteers.models import Post
    from fangkong.zones.models import CareTask, Zone

    # six positives and seven close contacts, each contact in central quarantine
    assert Case.objects.count() == 6
    contacts = Contact.objects.all()
    assert contacts.count() == 7
    assert set(contacts.values_list("observation__kind", flat=True)) == {"central_quarantine"}
    assert Observation.objects.filter(reason="close_contact", status="active").count() == 7
    # in three units of the three buildings, sealed under a 24-hour guard
    sealed = Zone.objects.filter(level="sealed", status="active")
    assert sorted(str(zone.unit) for zone in sealed) == ["1号楼1单元", "2号楼2单元", "3号楼2单元"]
    assert Post.objects.filter(zone__in=sealed, status="open", hours_per_day=24).count() == 3
    # two buildings controlled, building 3 waiting to be accepted
    controlled = {zone.building.number: zone.status for zone in Zone.objects.filter(level="controlled")}
    assert controlled == {"1": "active", "2": "active", "3": "proposed"}
    # today's positive reset its unit's countdown: 14 days from today
    newest = sealed.get(unit__building__number="3")
    assert newest.unlock_on == timezone.localdate() + datetime.timedelta(days=14)
    # the pregnant woman of unit 1-1 has her daily check under the sealed unit only
    pregnant = CareTask.objects.get(person__tags__tag="pregnant", active=True)
    assert pregnant.zone.level == "sealed"
    # every transfer but those of today's case has arrived
    todays_case = Case.objects.get(status="found")
    assert set(Transfer.objects.exclude(status="arrived").values_list("case", flat=True)) == {todays_case.pk}


def test_the_demo_shows_this_mornings_testing_round_in_progress(loaded):
    from fangkong.testing.models import ResampleTask, Sample, TestRound, Tube
    from fangkong.testing.queries import expected_people

    test_round = TestRound.objects.get()
    # everyone but the six cases and the seven contacts away in central quarantine is expected
    assert expected_people(test_round).count() == 252 - 6 - 7
    # the sealed units were sampled at the door, the rest at the gate; building 3 is not finished
    samples = Sample.objects.filter(round=test_round)
    assert samples.filter(door_to_door=True).exists() and samples.filter(door_to_door=False).exists()
    untested = expected_people(test_round).exclude(samples__round=test_round)
    assert untested.exists() and set(untested.values_list("household__building__number", flat=True)) == {"3"}
    # one pooled tube came back positive: its ten people wait for single-tube re-sampling
    positive = Tube.objects.get(result="positive")
    assert ResampleTask.objects.filter(tube=positive, status="open").count() == positive.sample_count == 10
