"""Lab result pages: upload, the import's positive tubes, the re-sampling list, the home-page alert tag."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from fangkong.testing.models import Tube
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pooled(community_a, household_a):
    tube = TubeFactory(round=RoundFactory(community=community_a), barcode="P0001", sample_count=1,
                       status=Tube.Status.CLOSED)
    SampleFactory(tube=tube, person=PersonFactory(household=household_a, name="王一", phone="13912345678"))
    return tube


def test_upload_then_the_import_shows_positive_tubes_and_unknown_barcodes(staff_a, community_a, pooled):
    client = signed_in(staff_a)
    upload = SimpleUploadedFile("r.csv", "条码,结果\nP0001,阳性\nNOPE1,阴性\n".encode())
    response = client.post(reverse("testing:results"), {"file": upload, "community": community_a.pk}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "P0001" in page and "NOPE1" in page and "王一" in page
    assert "管控区" in page


def test_a_bad_file_shows_the_line_and_lands_nothing(staff_a, community_a, pooled):
    # when a file with a bad line is uploaded
    upload = SimpleUploadedFile("r.csv", "条码,结果\nP0001,阳\n".encode())
    response = signed_in(staff_a).post(reverse("testing:results"), {"file": upload, "community": community_a.pk},
                                       follow=True)
    # then its page says the import failed, naming the line, and nothing landed
    page = response.content.decode()
    assert response.status_code == 200 and "导入失败" in page and "第 2 行" in page
    assert Tube.objects.get(pk=pooled.pk).result == ""
    # and the list shows the import failed
    assert "失败" in signed_in(staff_a).get(reverse("testing:results")).content.decode()


def test_a_grid_member_sees_the_tasks_and_the_alert_but_not_the_upload(staff_a, grid_member_a, community_a, pooled):
    upload = SimpleUploadedFile("r.csv", "条码,结果\nP0001,阳性\n".encode())
    signed_in(staff_a).post(reverse("testing:results"), {"file": upload, "community": community_a.pk})
    client = signed_in(grid_member_a)
    assert client.get(reverse("testing:results")).status_code == 403
    page = client.get(reverse("testing:resample_tasks")).content.decode()
    assert "王一" in page and "139****5678" in page and "13912345678" not in page
    request = RequestFactory().get("/")
    request.user = grid_member_a
    html = Template("{% load testing_alerts %}{% resample_alert %}").render(Context({"request": request}))
    assert "1 人待单管复核" in html and reverse("testing:resample_tasks") in html
