"""Community staff set up gates and issue passes; a pass is revoked with a reason; residents register themselves."""

import datetime
import uuid

import pytest
from django.utils import timezone

from fangkong.access import services
from fangkong.access.models import Checkpoint, Pass, Passage, Reason, Result
from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.volunteers import services as post_services
from tests.access.factories import PassFactory
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db

TOMORROW = datetime.timedelta(days=1)


def test_staff_set_up_a_gate_with_its_guard_post_and_rules(staff_a, compound_a):
    post = post_services.post_create(actor=staff_a, community=compound_a.community, name="东门值守", kind="gate",
                                     compound=compound_a)

    gate = services.checkpoint_create(actor=staff_a, community=compound_a.community, name="驰誉小区东门",
                                      compound=compound_a, direction="both", opens_at=datetime.time(6),
                                      closes_at=datetime.time(22), post=post, pass_required=True, test_within_hours=48)

    assert (gate.post, gate.pass_required, gate.test_within_hours, gate.place_label) == (post, True, 48, "驰誉小区")
    assert AuditEvent.objects.filter(object_type="checkpoint", action="create").count() == 1


@pytest.mark.parametrize(("field", "given"), [
    ("name", {"name": " "}),
    ("direction", {"direction": "sideways"}),
    ("closes_at", {"opens_at": datetime.time(6)}),
    ("test_within_hours", {"test_within_hours": 0}),
    ("test_within_hours", {"test_within_hours": 500}),
])
def test_a_gate_with_bad_rules_is_refused_naming_the_field(staff_a, community_a, field, given):
    with pytest.raises(DomainError) as err:
        services.checkpoint_create(actor=staff_a, community=community_a, **{"name": "东门", **given})

    assert field in err.value.fields and not Checkpoint.objects.exists()


def test_a_gate_of_a_compound_elsewhere_or_a_second_name_is_refused(staff_a, community_a, household_b):
    with pytest.raises(DomainError) as err:
        services.checkpoint_create(actor=staff_a, community=community_a, name="东门", compound=household_b.compound)
    assert "compound_id" in err.value.fields

    services.checkpoint_create(actor=staff_a, community=community_a, name="东门")
    with pytest.raises(Conflict):
        services.checkpoint_create(actor=staff_a, community=community_a, name="东门")


def test_only_staff_set_up_gates_and_only_in_their_community(volunteer, staff_b, community_a):
    with pytest.raises(NotAllowed):
        services.checkpoint_create(actor=volunteer, community=community_a, name="东门")
    with pytest.raises(Exception) as err:
        services.checkpoint_create(actor=staff_b, community=community_a, name="东门")
    assert err.typename == "Http404"


def test_a_gate_closed_by_its_update_refuses_every_scan(staff_a, gate_a, person_a, scan):
    closed = services.checkpoint_update(actor=staff_a, checkpoint=gate_a, name=gate_a.name, active=False)

    assert scan(closed, person_a).decision.reason == Reason.CHECKPOINT_INACTIVE


def test_a_grid_member_issues_a_household_pass_with_a_quota(grid_member_a, household_a):
    issued = services.pass_issue(actor=grid_member_a, kind="shopping", household=household_a,
                                 valid_until=timezone.now() + 14 * TOMORROW, quota_exits=1, quota_days=3)

    assert (issued.household, issued.person, issued.community_id) == (household_a, None, household_a.community_id)
    assert (issued.quota_exits, issued.quota_days, issued.issued_by) == (1, 3, grid_member_a)


def test_a_person_pass_belongs_to_their_household(grid_member_a, person_a):
    issued = services.pass_issue(actor=grid_member_a, kind="work", person=person_a,
                                 valid_until=timezone.now() + TOMORROW)

    assert issued.household_id == person_a.household_id


@pytest.mark.parametrize(("field", "given"), [
    ("kind", {"kind": "party"}),
    ("valid_until", {"valid_until": None}),
    ("valid_until", {"valid_until": timezone.now() - TOMORROW}),
    ("valid_until", {"valid_until": timezone.now() + 400 * TOMORROW}),
    ("quota_days", {"quota_exits": 1}),
    ("quota_exits", {"quota_exits": 0, "quota_days": 3}),
    ("person_id", {"household": None}),
])
def test_a_pass_with_bad_terms_is_refused_naming_the_field(staff_a, household_a, field, given):
    terms = {"kind": "shopping", "household": household_a, "valid_until": timezone.now() + TOMORROW, **given}

    with pytest.raises(DomainError) as err:
        services.pass_issue(actor=staff_a, **terms)

    assert field in err.value.fields and not Pass.objects.exists()


def test_nobody_issues_passes_outside_their_scope_or_without_the_role(grid_member_b, volunteer, household_a):
    with pytest.raises(Exception) as err:
        services.pass_issue(actor=grid_member_b, kind="shopping", household=household_a,
                            valid_until=timezone.now() + TOMORROW)
    assert err.typename == "Http404"
    with pytest.raises(NotAllowed):
        services.pass_issue(actor=volunteer, kind="shopping", household=household_a,
                            valid_until=timezone.now() + TOMORROW)


def test_a_revoked_pass_says_who_and_why_and_cannot_be_revoked_twice(staff_a, household_a):
    issued = PassFactory(household=household_a)

    revoked = services.pass_revoke(actor=staff_a, pass_=issued, reason="全户转运隔离")

    assert (revoked.revoked_by, revoked.revoke_reason) == (staff_a, "全户转运隔离")
    with pytest.raises(Conflict):
        services.pass_revoke(actor=staff_a, pass_=issued, reason="again")
    with pytest.raises(DomainError):
        services.pass_revoke(actor=staff_a, pass_=PassFactory(household=household_a), reason="")


def test_a_resident_registers_a_member_of_their_household_at_a_poster(resident, household_a, gate_a):
    child = PersonFactory(household=household_a, name="张小三")

    registered = services.passage_self_register(actor=resident, checkpoint=gate_a, person=child,
                                                client_id=uuid.uuid4(), direction="out", temperature="36.4")

    assert registered.passage.self_scan and registered.passage.person == child
    assert registered.decision.result == Result.ALLOWED


def test_a_resident_cannot_register_someone_of_another_household(resident, person_b, gate_a):
    with pytest.raises(NotAllowed):
        services.passage_self_register(actor=resident, checkpoint=gate_a, person=person_b, client_id=uuid.uuid4(),
                                       direction="out")
    assert not Passage.objects.exists()


def test_a_visitor_fills_in_the_posters_form_without_signing_in(gate_a, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    registered = services.passage_visitor_self_register(
        actor=AnonymousUser(), checkpoint=gate_a, client_id=uuid.uuid4(), direction="in",
        visitor={"name": "快递小哥", "phone": "13700001111", "reason": "送快递"})

    assert registered.passage.self_scan and registered.passage.guard is None
    assert registered.decision.reason == Reason.VISITOR
