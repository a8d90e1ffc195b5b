"""Answering rows: the answer, its author and time; the matched person's facts and colour follow;
only rows in one's scope; reassigning and matching by hand; the export in the received layout."""

import csv
import io

import pytest
from django.http import Http404
from openpyxl import load_workbook

from fangkong.core.errors import DomainError
from fangkong.core.models import AuditEvent
from fangkong.screening.models import Answer, FollowUp, MatchKind
from fangkong.screening.services import (
    verification_batch_export,
    verification_batch_import,
    verification_item_answer,
    verification_item_match,
    verification_item_reassign,
)
from tests.people.factories import PersonFactory, resident_id
from tests.screening.list_files import HEADER, list_row, list_xlsx


@pytest.fixture
def batch(staff_a, person_a):
    rows = [list_row(1, name="张三", id_number=person_a.id_number, phone=person_a.phone),
            list_row(2, name="@SUM(A1)", id_number=resident_id(77))]
    return verification_batch_import(actor=staff_a, file_name="名单.xlsx", data=list_xlsx(rows), title="第3批",
                                     hours=4)


def _row(batch, line):
    return batch.items.get(line=line)


@pytest.mark.django_db
def test_answer_present_and_verified_colours_the_person_blue_or_yellow(batch, grid_member_a, person_a):
    # When grid member A answers 张三's row "在本辖区,已核实"
    item = verification_item_answer(actor=grid_member_a, item=_row(batch, 3), answer=Answer.PRESENT_VERIFIED,
                                     note="电话核实,在家")
    # Then the answer carries its author and time, and 张三 is followed as reached and verified
    assert (item.answer, item.answer_note, item.answered_by) == (
        Answer.PRESENT_VERIFIED, "电话核实,在家", grid_member_a)
    assert item.answered_at is not None
    follow_up = FollowUp.objects.get(person=person_a)
    assert follow_up.reached and follow_up.verified and not follow_up.left_community
    assert AuditEvent.objects.filter(action="update", object_type="verificationitem", object_id=str(item.pk)).exists()


@pytest.mark.django_db
def test_answering_again_overwrites_and_left_marks_the_person_gone(batch, grid_member_a, staff_a, person_a):
    verification_item_answer(actor=grid_member_a, item=_row(batch, 3), answer=Answer.PRESENT_VERIFIED)
    item = verification_item_answer(actor=staff_a, item=_row(batch, 3), answer=Answer.LEFT, note="已返回武汉")
    assert (item.answer, item.answered_by, item.answer_note) == (Answer.LEFT, staff_a, "已返回武汉")
    assert FollowUp.objects.get(person=person_a).left_community
    assert AuditEvent.objects.filter(object_type="verificationitem", object_id=str(item.pk)).count() == 2


@pytest.mark.django_db
def test_not_found_changes_no_facts(batch, staff_a):
    verification_item_answer(actor=staff_a, item=_row(batch, 4), answer=Answer.NOT_FOUND)
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_unknown_answer_is_refused(batch, staff_a):
    with pytest.raises(DomainError) as caught:
        verification_item_answer(actor=staff_a, item=_row(batch, 3), answer="maybe")
    assert caught.value.fields == {"answer": "取值不正确"}
    assert _row(batch, 3).answer == ""


@pytest.mark.django_db
def test_a_row_outside_ones_scope_is_404(batch, grid_member_b, staff_b, grid_member_a):
    # 张三's row is grid A's; the queue row (line 4) is no grid's, so grid member A does not see it either
    for actor, line in ((grid_member_b, 3), (staff_b, 3), (grid_member_a, 4)):
        with pytest.raises(Http404):
            verification_item_answer(actor=actor, item=_row(batch, line), answer=Answer.NOT_FOUND)


@pytest.mark.django_db
def test_staff_send_a_queue_row_to_a_grid_or_match_it_by_hand(batch, staff_a, grid_a, household_a, grid_member_a):
    # Given the unmatched row 4 in community A's queue
    item = verification_item_reassign(actor=staff_a, item=_row(batch, 4), grid=grid_a)
    # Then it is grid A's, and grid member A may answer it
    assert item.grid == grid_a
    verification_item_answer(actor=grid_member_a, item=_row(batch, 4), answer=Answer.NOT_FOUND)
    # And matching it by hand to a person ties it to them
    wang = PersonFactory(household=household_a, name="王五")
    item = verification_item_match(actor=staff_a, item=_row(batch, 4), person=wang)
    assert (item.person, item.grid, item.match_kind) == (wang, grid_a, MatchKind.MANUAL)
    assert item.get_match_kind_display() == "人工匹配"


@pytest.mark.django_db
def test_grid_members_cannot_reassign(batch, grid_member_a, grid_a):
    from fangkong.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        verification_item_reassign(actor=grid_member_a, item=_row(batch, 3), grid=grid_a)


@pytest.mark.django_db
def test_round_trip_export_keeps_the_layout_and_adds_the_answers(batch, grid_member_a, staff_a, person_a, grid_a):
    # Given row 3 answered by grid member A
    verification_item_answer(actor=grid_member_a, item=_row(batch, 3), answer=Answer.CONTROLLED, note="居家隔离")
    # When staff export the list as xlsx
    sheet = load_workbook(io.BytesIO(verification_batch_export(actor=staff_a, batch=batch, fmt="xlsx"))).active
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    # Then the header is the received one plus the answer columns, IDs as received, answers filled in
    assert rows[0] == [*HEADER, "核查结果", "情况说明", "核查人", "核查时间", "匹配方式", "所属网格"]
    assert rows[1][:7] == ["1", "湖北省武汉市", "张三", person_a.id_number, person_a.phone, "途经风险地区", "第3批"]
    assert rows[1][7:9] == ["已落实管控", "居家隔离"]
    assert rows[1][9] == str(grid_member_a) and rows[1][10]
    assert rows[1][11:] == ["身份证号一致", grid_a.name]
    # And a formula-looking cell is written as text, not run
    assert rows[2][2] == "'@SUM(A1)"
    assert rows[2][7:] == ["", "", "", "", "未匹配", ""]
    assert AuditEvent.objects.filter(action="export", object_type="verificationbatch").count() == 1


@pytest.mark.django_db
def test_csv_export_and_a_grid_members_export_holds_only_their_rows(batch, grid_member_a):
    text = verification_batch_export(actor=grid_member_a, batch=batch, fmt="csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][2] == "张三"
    with pytest.raises(DomainError):
        verification_batch_export(actor=grid_member_a, batch=batch, fmt="pdf")


@pytest.mark.django_db
def test_export_outside_scope_is_404(batch, staff_b):
    with pytest.raises(Http404):
        verification_batch_export(actor=staff_b, batch=batch)
