"""A case moves forward only: found → transferred → in hospital / central quarantine → recovered → closed."""

import pytest
from django.http import Http404

from fangkong.core.errors import Conflict, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.health.models import Case, CaseEvent
from fangkong.health.services import case_status_set
from tests.health.factories import CaseFactory


@pytest.fixture
def case(person_a):
    return CaseFactory(person=person_a)


def test_status_moves_forward_with_a_timeline_line_and_an_audit_event(case, staff_a):
    # when the case is picked up and then arrives at the makeshift hospital
    case_status_set(actor=staff_a, case=case, status=Case.Status.TRANSFERRED)
    case = case_status_set(actor=staff_a, case=case, status=Case.Status.IN_CENTRAL_QUARANTINE, location="国博方舱")
    # then the case is there, the timeline says so, and each change is audited
    assert (case.status, case.location) == (Case.Status.IN_CENTRAL_QUARANTINE, "国博方舱")
    notes = list(CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).values_list("note", flat=True))
    assert notes[-1] == "状态:转运中 → 方舱/集中隔离,目前在 国博方舱"
    changes = AuditEvent.objects.filter(object_type="case", object_id=str(case.pk), fields=["location", "status"])
    assert changes.count() == 2


def test_a_case_may_skip_forward_and_move_between_hospital_and_makeshift_hospital(case, medic):
    case_status_set(actor=medic, case=case, status=Case.Status.IN_CENTRAL_QUARANTINE)
    case = case_status_set(actor=medic, case=case, status=Case.Status.IN_HOSPITAL)
    assert case.status == Case.Status.IN_HOSPITAL


def test_the_same_status_again_changes_nothing(case, staff_a):
    case_status_set(actor=staff_a, case=case, status=Case.Status.TRANSFERRED)
    case_status_set(actor=staff_a, case=case, status=Case.Status.TRANSFERRED)
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).count() == 1


def test_a_backward_move_is_refused(case, staff_a):
    case_status_set(actor=staff_a, case=case, status=Case.Status.IN_HOSPITAL)
    with pytest.raises(Conflict, match="不能从“住院治疗”退回到“已发现待转运”"):
        case_status_set(actor=staff_a, case=case, status=Case.Status.FOUND)


def test_closing_sets_closed_at_and_a_closed_case_cannot_change(case, staff_a):
    case = case_status_set(actor=staff_a, case=case, status=Case.Status.CLOSED, note="出院")
    assert case.closed_at is not None
    with pytest.raises(Conflict, match="已结案"):
        case_status_set(actor=staff_a, case=case, status=Case.Status.CLOSED, location="家中")


def test_recovery_ends_the_open_case_so_a_new_one_may_follow(case, staff_a):
    case = case_status_set(actor=staff_a, case=case, status=Case.Status.RECOVERED)
    assert case.closed_at is not None and not case.is_open
    assert case_status_set(actor=staff_a, case=case, status=Case.Status.CLOSED).status == Case.Status.CLOSED


def test_an_unknown_status_is_refused(case, staff_a):
    with pytest.raises(Exception, match="病例状态应为"):
        case_status_set(actor=staff_a, case=case, status="cured")


def test_outside_scope_is_404_and_a_volunteer_may_not(case, staff_b, grid_member_b, volunteer):
    for outsider in (staff_b, grid_member_b):
        with pytest.raises(Http404):
            case_status_set(actor=outsider, case=case, status=Case.Status.TRANSFERRED)
    with pytest.raises(NotAllowed):
        case_status_set(actor=volunteer, case=case, status=Case.Status.TRANSFERRED)
