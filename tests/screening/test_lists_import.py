"""Importing a list: every column kept in order, a deadline, and bad input refused whole with a clear message."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.core.models import AuditEvent
from fangkong.screening.models import VerificationBatch, VerificationItem
from fangkong.screening.services import verification_batch_import
from tests.people.factories import resident_id
from tests.screening.list_files import HEADER, list_csv, list_row, list_xlsx


def _import(actor, data, *, file_name="名单.xlsx", **options):
    options.setdefault("hours", 4)
    return verification_batch_import(actor=actor, file_name=file_name, data=data, title="第3批核查名单", **options)


@pytest.mark.django_db
def test_every_column_and_cell_is_kept_in_the_received_order(staff_a, community_a):
    # Given a list under a title row, with a column nobody recognises (推送批次)
    rows = [list_row(1, name="张三", id_number=resident_id(1)), list_row(2, name="李梅", phone="13912345678")]
    batch = _import(staff_a, list_xlsx(rows))
    # Then the batch keeps the header as received, each row its cells and its line in the sheet
    assert batch.columns == HEADER
    assert batch.row_count == 2
    assert batch.community == community_a and batch.street == community_a.street
    items = list(batch.items.order_by("line"))
    assert [item.line for item in items] == [3, 4]
    assert items[0].cells == ["1", "湖北省武汉市", "张三", resident_id(1), "", "途经风险地区", "第3批"]
    assert (items[1].name, items[1].phone, items[1].origin, items[1].reason) == (
        "李梅", "13912345678", "湖北省武汉市", "途经风险地区")
    # And the import is audited
    assert AuditEvent.objects.filter(action="import", object_type="verificationbatch", object_id=str(batch.pk)).exists()


@pytest.mark.django_db
def test_deadline_from_hours_or_given(staff_a):
    before = timezone.now()
    batch = _import(staff_a, list_xlsx([list_row(1, name="甲", id_number=resident_id(1))]), hours=4)
    assert datetime.timedelta(hours=4) <= batch.deadline - before < datetime.timedelta(hours=4, minutes=1)
    when = timezone.now() + datetime.timedelta(hours=6)
    batch = _import(staff_a, list_csv([list_row(1, name="甲", id_number=resident_id(1))]), file_name="名单.csv",
                    hours=None, deadline=when)
    assert batch.deadline == when


@pytest.mark.django_db
def test_a_deadline_in_the_past_is_refused(staff_a):
    with pytest.raises(DomainError, match="反馈时限必须晚于现在"):
        _import(staff_a, list_xlsx([list_row(1, name="甲")]), hours=None,
                deadline=timezone.now() - datetime.timedelta(minutes=1))


@pytest.mark.django_db
def test_a_list_without_an_id_column_is_refused(staff_a):
    data = list_xlsx([["张三", "13800001234"]], header=["姓名", "手机号"])
    with pytest.raises(DomainError) as caught:
        _import(staff_a, data)
    assert caught.value.message == "名单缺少身份证号列"
    assert not VerificationBatch.objects.exists()


@pytest.mark.django_db
def test_malformed_ids_are_reported_with_their_lines_and_nothing_is_written(staff_a):
    # Given a list whose rows 4 and 6 carry a bad checksum and an impossible birth date
    good = resident_id(1)
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    bad_date = "110101" + "19801332" + "0011"
    rows = [list_row(1, name="甲", id_number=good), list_row(2, name="乙", id_number=bad_checksum),
            list_row(3, name="丙", phone="13800000000"), list_row(4, name="丁", id_number=bad_date)]
    with pytest.raises(DomainError) as caught:
        _import(staff_a, list_xlsx(rows))
    # Then both are named by line and column, and nothing at all is stored
    assert "第 4 行:身份证号:身份证号校验位错误" in caught.value.message
    assert "第 6 行:身份证号:" in caught.value.message
    assert "第 5 行" not in caught.value.message
    assert not VerificationBatch.objects.exists() and not VerificationItem.objects.exists()


@pytest.mark.django_db
def test_the_same_list_twice_is_refused_naming_the_earlier_batch(staff_a, street_admin):
    data = list_xlsx([list_row(1, name="甲", id_number=resident_id(1))])
    first = _import(staff_a, data)
    # When the same file comes again, even through the street
    with pytest.raises(Conflict) as caught:
        verification_batch_import(actor=street_admin, file_name="再次.xlsx", data=data, title="又一份", hours=2)
    when = timezone.localtime(first.created_at).strftime("%Y-%m-%d %H:%M")
    assert caught.value.message == f"该名单已于 {when} 导入过(“第3批核查名单”),不能重复导入"
    assert VerificationBatch.objects.count() == 1


@pytest.mark.django_db
def test_only_community_staff_and_the_street_import(grid_member_a, medic, staff_b, community_a):
    data = list_xlsx([list_row(1, name="甲", id_number=resident_id(1))])
    for actor in (grid_member_a, medic):
        with pytest.raises(NotAllowed):
            _import(actor, data)
    # And a community worker cannot import for another community
    with pytest.raises(Http404):
        _import(staff_b, data, community=community_a)


@pytest.mark.django_db
def test_not_a_spreadsheet_and_empty_rows(staff_a):
    with pytest.raises(DomainError, match="只支持"):
        _import(staff_a, b"hello", file_name="名单.txt")
    with pytest.raises(DomainError, match="没有身份证号、手机号或姓名"):
        _import(staff_a, list_xlsx([list_row(1, origin="北京")]))
