"""The lab-results API: file import, single results with corrections, a tube's results, re-sampling tasks;
404 outside scope."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fangkong.testing.models import LabResult, Tube
from tests.clients import signed_in
from tests.people.factories import PersonFactory
from tests.testing.factories import SampleFactory, TubeFactory
from tests.testing.factories import TestRoundFactory as RoundFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _iso(hours_ago: float) -> str:
    return (timezone.now() - datetime.timedelta(hours=hours_ago)).isoformat()


@pytest.fixture
def pooled(community_a, household_a):
    tube = TubeFactory(round=RoundFactory(community=community_a), barcode="P0001", sample_count=2,
                       status=Tube.Status.CLOSED)
    for name in ("王一", "王二"):
        SampleFactory(tube=tube, person=PersonFactory(household=household_a, name=name, phone="13912345678"))
    return tube


def test_a_file_through_the_api_tells_counts_and_unknown_tubes(staff_a, pooled, grid_member_a):
    # when community staff post the lab's file
    upload = SimpleUploadedFile("r.csv", "条码,结果\nP0001,阳性\nZZZ,阴性\n".encode())
    response = signed_in(staff_a).post(f"{API}/lab-results/import", {"file": upload})

    # then the import is answered with its counts and the unknown tube
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["positives"], body["unknown_tubes"]) == (2, 1, ["ZZZ"])
    # and the grid member sees the re-sampling tasks, phones masked
    tasks = signed_in(grid_member_a).get(f"{API}/resample-tasks").json()
    assert tasks["count"] == 2
    assert {task["person_name"] for task in tasks["items"]} == {"王一", "王二"}
    assert all(task["phone"] == "139****5678" for task in tasks["items"])


def test_a_malformed_file_is_400_naming_the_line(staff_a, pooled):
    upload = SimpleUploadedFile("r.csv", "条码,结果\nP0001,阳\n".encode())
    response = signed_in(staff_a).post(f"{API}/lab-results/import", {"file": upload})
    assert response.status_code == 400 and "第 2 行" in response.json()["error"]["message"]
    assert not LabResult.objects.exists()


def test_single_results_and_their_correction_chain(medic, pooled):
    client = signed_in(medic)
    # given a first result
    first = client.post(f"{API}/lab-results", {"barcode": "P0001", "result": "negative", "reported_at": _iso(2)},
                        content_type="application/json")
    assert first.status_code == 201, first.json()

    # when a second comes without replaces_id, then 409
    again = client.post(f"{API}/lab-results", {"barcode": "P0001", "result": "invalid", "reported_at": _iso(1)},
                        content_type="application/json")
    assert again.status_code == 409

    # when it names the current result, then the chain shows both, the latest current
    fixed = client.post(f"{API}/lab-results", {"barcode": "P0001", "result": "invalid", "reported_at": _iso(1),
                                               "replaces_id": first.json()["id"]}, content_type="application/json")
    assert fixed.status_code == 201, fixed.json()
    chain = client.get(f"{API}/tubes/P0001/results").json()
    assert [(row["result"], row["current"]) for row in chain] == [("negative", False), ("invalid", True)]
    assert chain[1]["replaces_id"] == chain[0]["id"]


def test_a_single_result_names_its_tube_as_the_lab_writes_it(medic, pooled):
    client = signed_in(medic)
    recorded = client.post(f"{API}/lab-results", {"barcode": "p0001 ", "result": "negative", "reported_at": _iso(1)},
                           content_type="application/json")
    assert recorded.status_code == 201, recorded.json()
    assert [row["result"] for row in client.get(f"{API}/tubes/p0001/results").json()] == ["negative"]


def test_outside_scope_is_404(staff_b, pooled):
    client = signed_in(staff_b)
    assert client.get(f"{API}/tubes/P0001/results").status_code == 404
    response = client.post(f"{API}/lab-results", {"barcode": "P0001", "result": "negative", "reported_at": _iso(1)},
                           content_type="application/json")
    assert response.status_code == 404
    assert client.get(f"{API}/resample-tasks").json()["count"] == 0


def test_a_grid_member_may_not_post_results(grid_member_a, pooled):
    response = signed_in(grid_member_a).post(f"{API}/lab-results", {"barcode": "P0001", "result": "negative",
                                                                    "reported_at": _iso(1)},
                                             content_type="application/json")
    assert response.status_code == 403
