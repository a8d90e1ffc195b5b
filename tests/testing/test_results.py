"""Lab result files and single results: what lands, what is refused, and corrections."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from fangkong.core.errors import Conflict, DomainError, NotAllowed
from fangkong.testing import services
from fangkong.testing.models import LabResult, Result, ResultImport, Sample, Tube
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory


def csv_file(text: str, name: str = "results.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8-sig") if text else b"")


def xlsx_file(rows: list[list], name: str = "results.xlsx") -> SimpleUploadedFile:
    import io

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def round_a(community_a):
    return RoundFactory(community=community_a, pool_size=10)


@pytest.fixture
def tubes(round_a):
    return [TubeFactory(round=round_a, barcode=f"A{n:04d}", status=Tube.Status.CLOSED) for n in range(1, 5)]


def test_a_file_sets_each_tube_result_and_reports_unknown_tubes(staff_a, community_a, tubes, community_b):
    # given four tubes of the community and one tube of another community
    TubeFactory(round=RoundFactory(community=community_b), barcode="B0001")
    upload = csv_file("条码,结果,报告时间,检测机构\n"
                      "A0001,阴性,2022-04-04 06:30,金域\n"
                      "A0002,无效,2022/4/4 6:31,金域\n"
                      "A0003,negative,2022-04-04 06:32:10,金域\n"
                      "X9999,阴性,2022-04-04 06:33,金域\n"
                      "B0001,阴性,2022-04-04 06:34,金域\n")

    # when staff import the lab's file
    result_import = services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=upload)

    # then each known tube carries its result, the others are reported, not fatal
    assert result_import.rows == 5
    assert result_import.unknown_tubes == ["X9999", "B0001"]
    assert Tube.objects.get(barcode="A0001").result == Result.NEGATIVE
    assert Tube.objects.get(barcode="A0001").status == Tube.Status.RESULTED
    assert Tube.objects.get(barcode="A0002").result == Result.INVALID
    assert Tube.objects.get(barcode="A0004").result == ""
    assert Tube.objects.get(barcode="B0001").result == ""
    first = LabResult.objects.get(tube__barcode="A0001")
    assert first.lab == "金域" and first.source == result_import
    assert timezone.localtime(first.reported_at).strftime("%Y-%m-%d %H:%M") == "2022-04-04 06:30"


def test_a_barcode_written_in_lower_case_or_full_width_by_the_lab_is_its_tube(staff_a, community_a, tubes):
    upload = csv_file("条码,结果\na0001,阴性\nＡ０００２ ,阳性\n")

    result_import = services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=upload)

    assert result_import.unknown_tubes == []
    assert Tube.objects.get(barcode="A0001").result == Result.NEGATIVE
    assert Tube.objects.get(barcode="A0002").result == Result.POSITIVE


def test_headers_in_english_in_any_order_from_xlsx(staff_a, community_a, tubes):
    # given an .xlsx file under a title row with English headers in another order
    upload = xlsx_file([["某检测机构结果回传"], ["Lab", "Time", "Result", "Tube Barcode"],
                        ["KingMed", datetime.datetime(2022, 4, 4, 7, 0), "Negative", "A0001"],
                        ["KingMed", datetime.datetime(2022, 4, 4, 7, 1), "阴性", "A0002"]])

    # when it is imported
    result_import = services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=upload)

    # then both tubes are negative
    assert result_import.rows == 2 and result_import.unknown_tubes == []
    assert set(Tube.objects.filter(result=Result.NEGATIVE).values_list("barcode", flat=True)) == {"A0001", "A0002"}


@pytest.mark.parametrize("text, words", [
    ("", "空"),
    ("姓名,身份证号\n张三,1\n", "找不到表头"),
    ("条码,结果\nA0001,阴性\nA0002,可疑\n", "第 3 行"),
    ("条码,结果\nA0001,阴性\nA0002,阴性\nA0001,阳性\n", "第 4 行:条码 A0001 与第 2 行重复"),
    ("条码,结果,时间\nA0001,阴性,昨天早上\n", "第 2 行"),
    ("条码,结果,时间\nA0001,阴性,2022-04-04 06:30\nA0002,阴性,2099-04-04 06:30\n",
     "第 3 行:时间 2099-04-04 06:30不能晚于现在"),
    ("条码,结果\n", "没有数据行"),
])
def test_a_malformed_file_lands_nothing(staff_a, community_a, tubes, text, words):
    # given a file that is empty, has the wrong columns, an unknown word, a bad time or a duplicate tube
    upload = csv_file(text)

    # when it is imported, then it is refused with the line at fault, and nothing is stored
    with pytest.raises(DomainError) as refused:
        services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=upload)
    assert words in refused.value.message
    assert not LabResult.objects.exists() and not ResultImport.objects.exists()
    assert not Tube.objects.exclude(result="").exists()


def test_the_same_file_twice_stores_nothing_twice(staff_a, community_a, tubes):
    # given a file already imported
    text = "条码,结果,时间\nA0001,阴性,2022-04-04 06:30\nA0002,阴性,2022-04-04 06:30\n"
    services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=csv_file(text))

    # when it comes again
    services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=csv_file(text))

    # then each tube still has one result
    assert LabResult.objects.count() == 2


def test_a_second_file_with_another_word_is_a_correction(staff_a, community_a, tubes):
    # given a tube resulted invalid by a first file
    services.lab_results_import(actor=staff_a, community=community_a,
                                uploaded_file=csv_file("条码,结果\nA0001,无效\n"))
    first = LabResult.objects.get()

    # when the lab re-issues it as negative
    services.lab_results_import(actor=staff_a, community=community_a,
                                uploaded_file=csv_file("条码,结果\nA0001,阴性\n"))

    # then the new result replaces the first, which stays as it was
    second = LabResult.objects.exclude(pk=first.pk).get()
    assert second.replaces == first and LabResult.objects.get(pk=first.pk).result == Result.INVALID
    assert Tube.objects.get(barcode="A0001").result == Result.NEGATIVE


def test_only_result_roles_may_import(grid_member_a, community_a, tubes):
    # given a grid member, when they import a result file, then it is not allowed
    with pytest.raises(NotAllowed):
        services.lab_results_import(actor=grid_member_a, community=community_a,
                                    uploaded_file=csv_file("条码,结果\nA0001,阴性\n"))


def test_a_result_reported_ahead_of_now_is_refused_naming_the_field(medic, tubes):
    # given a lab device whose clock runs an hour fast
    ahead = timezone.now() + datetime.timedelta(hours=1)

    # when it records a tube's result, then the report time is refused and nothing is stored
    with pytest.raises(DomainError) as refused:
        services.lab_result_record(actor=medic, tube=tubes[0], result=Result.NEGATIVE, reported_at=ahead)
    assert refused.value.fields == {"reported_at": "报告时间不能晚于现在"}
    assert not LabResult.objects.exists()


def test_a_result_file_over_the_upload_limit_is_refused_by_its_size_before_it_is_read(staff_a, community_a, tubes,
                                                                                      settings):
    # given an upload the server was told is one byte over the limit
    upload = csv_file("条码,结果\nA0001,阴性\n")
    upload.size = settings.LEDGER_MAX_BYTES + 1

    # when it is imported, then it is refused as too large, and nothing is stored
    with pytest.raises(DomainError) as refused:
        services.lab_results_import(actor=staff_a, community=community_a, uploaded_file=upload)
    assert refused.value.code == "too_large" and "file" in refused.value.fields
    assert not LabResult.objects.exists() and not ResultImport.objects.exists()


def test_a_second_result_must_name_what_it_replaces(medic, tubes):
    # given a tube with a negative result
    tube = tubes[0]
    reported = timezone.now() - datetime.timedelta(hours=1)
    first = services.lab_result_record(actor=medic, tube=tube, result=Result.NEGATIVE, reported_at=reported, lab="金域")

    # when a second result comes without naming the first, then it is a conflict
    with pytest.raises(Conflict):
        services.lab_result_record(actor=medic, tube=tube, result=Result.INVALID, reported_at=reported)

    # when it names the current result, then it is the tube's current result
    second = services.lab_result_record(actor=medic, tube=tube, result=Result.INVALID, reported_at=reported,
                                        replaces=first)
    assert Tube.objects.get(pk=tube.pk).result == Result.INVALID

    # and a third naming the replaced first one is refused too
    with pytest.raises(Conflict):
        services.lab_result_record(actor=medic, tube=tube, result=Result.NEGATIVE, reported_at=reported,
                                   replaces=first)
    assert second.replaces == first and LabResult.objects.count() == 2


def test_an_invalid_tube_sends_its_people_back_to_untested(staff_a, community_a, round_a, household_a):
    # given two people sampled into a tube
    tube = TubeFactory(round=round_a, barcode="A0100", sample_count=2, status=Tube.Status.CLOSED)
    people = [PersonFactory(household=household_a) for _ in range(2)]
    for person in people:
        SampleFactory(tube=tube, person=person)

    # when the lab says the tube is invalid
    services.lab_results_import(actor=staff_a, community=community_a,
                                uploaded_file=csv_file("条码,结果\nA0100,无效\n"))

    # then their samples are void and a new sample of the same round is accepted
    assert set(Sample.objects.filter(tube=tube).values_list("void", flat=True)) == {True}
    other = TubeFactory(round=round_a, barcode="A0101")
    SampleFactory(tube=other, person=people[0])
    assert Sample.objects.filter(person=people[0], void=False).count() == 1
