"""The arrivals and risk areas API: same services, same scope, masked values, one error shape."""

import datetime

import pytest
from django.utils import timezone

from fangkong.screening.models import Arrival, FollowUp, RiskArea
from tests.clients import signed_in
from tests.people.factories import resident_id
from tests.screening.factories import ArrivalFactory, RiskAreaFactory

API = "/api/v1"
YESTERDAY = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()



def post(client, url, body):
    return client.post(f"{API}{url}", body, content_type="application/json")


@pytest.fixture
def arrival_a(person_a):
    return ArrivalFactory(person=person_a)


def test_staff_posts_an_arrival_with_companions(staff_a, household_a):
    body = {"household_id": household_a.pk, "name": "王芳", "id_number": resident_id(51), "phone": "13900002222",
            "origin_code": "420106", "arrived_on": YESTERDAY, "travel_mode": "flight", "travel_number": "CA1234",
            "companions": [{"name": "王小明", "id_number": resident_id(52), "relationship": "子女"}],
            "notice_acknowledged": True, "commitment_signed": True}
    response = post(signed_in(staff_a), "/arrivals", body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["person_name"] == "王芳" and answer["address"] == "3-2-301"
    assert answer["phone"] == "139****2222" and "*" in answer["id_number"]
    assert Arrival.objects.filter(companion_of_id=answer["id"]).count() == 1
    assert FollowUp.objects.count() == 2


@pytest.mark.parametrize("changes, field", [({"origin_code": "999999"}, "origin_code"),
                                            ({"arrived_on": "2999-01-01"}, "arrived_on"),
                                            ({"id_number": "110101199003071234"}, "id_number")])
def test_bad_arrival_is_400_naming_the_field(staff_a, household_a, changes, field):
    body = {"household_id": household_a.pk, "name": "王芳", "id_number": resident_id(51), "origin_code": "420106",
            "arrived_on": YESTERDAY, **changes}
    response = post(signed_in(staff_a), "/arrivals", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["staff_b", "grid_member_b"])
def test_community_a_arrivals_are_404_for_others(request, arrival_a, who):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(f"{API}/arrivals/{arrival_a.pk}").status_code == 404
    assert client.get(f"{API}/arrivals").json()["count"] == 0


def test_grid_member_sees_only_their_grids_arrivals(grid_member_a, arrival_a, person_b):
    ArrivalFactory(person=person_b)
    items = signed_in(grid_member_a).get(f"{API}/arrivals").json()["items"]
    assert [item["id"] for item in items] == [arrival_a.pk]


def test_household_outside_scope_is_404(staff_b, household_a):
    body = {"household_id": household_a.pk, "name": "王芳", "id_number": resident_id(51), "origin_code": "420106",
            "arrived_on": YESTERDAY}
    assert post(signed_in(staff_b), "/arrivals", body).status_code == 404


def test_list_filters_by_exposure(staff_a, arrival_a, person_a):
    exposed = ArrivalFactory(person=person_a, origin_code="420106", exposed=True)
    items = signed_in(staff_a).get(f"{API}/arrivals?exposed=true").json()["items"]
    assert [item["id"] for item in items] == [exposed.pk]


def test_street_admin_creates_and_ends_a_risk_area(street_admin):
    client = signed_in(street_admin)
    response = post(client, "/risk-areas", {"division_code": "420106", "level": "high", "valid_from": YESTERDAY})
    assert response.status_code == 201, response.content
    area_id = response.json()["id"]
    response = post(client, f"/risk-areas/{area_id}/end", {"valid_to": YESTERDAY})
    assert response.json()["valid_to"] == YESTERDAY


def test_community_staff_reads_risk_areas_but_cannot_add(staff_a, street):
    RiskAreaFactory(street=street)
    client = signed_in(staff_a)
    assert client.get(f"{API}/risk-areas").json()["count"] == 1
    response = post(client, "/risk-areas", {"division_code": "420106", "valid_from": YESTERDAY, "street_id": street.pk})
    assert response.status_code == 403
    assert RiskArea.objects.count() == 1


def test_unknown_division_is_a_chinese_400(street_admin):
    response = post(signed_in(street_admin), "/risk-areas", {"division_code": "999999", "valid_from": YESTERDAY})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "行政区划代码 999999 不存在"


def test_division_search(staff_a):
    names = [d["full_name"] for d in signed_in(staff_a).get(f"{API}/divisions?q=武昌").json()]
    assert "湖北省武汉市武昌区" in names
