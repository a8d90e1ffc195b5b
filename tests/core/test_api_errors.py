"""Every API error has one shape, a Chinese message, and never a traceback."""

import json

from django.test import Client

from fangkong.places import queries as place_queries
from tests.clients import signed_in

API = "/api/v1"



def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_a_caller_without_session_or_token_gets_401(db):
    # given nobody signed in
    # when they ask for the person list
    response = Client().get(f"{API}/persons")
    # then 401 in the error shape, in Chinese
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "unauthenticated"
    assert "登录" in error["message"]


def test_an_anonymous_write_gets_401_rather_than_a_csrf_failure(db):
    response = Client(enforce_csrf_checks=True).post(f"{API}/grids", {"community_id": 1, "name": "x"},
                                                     content_type="application/json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_an_unknown_bearer_token_gets_401(db):
    response = Client().get(f"{API}/persons", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_a_session_write_without_csrf_token_is_refused(staff_a, community_a):
    # given a signed-in console session whose browser did not send the CSRF token
    client = signed_in(staff_a, enforce_csrf_checks=True)
    # when it posts
    response = client.post(f"{API}/grids", {"community_id": community_a.id, "name": "第二网格"},
                           content_type="application/json")
    # then 403 csrf_failed, and nothing is created
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert community_a.grids.filter(name="第二网格").count() == 0


def test_a_session_write_with_csrf_token_goes_through(staff_a, community_a):
    client = signed_in(staff_a, enforce_csrf_checks=True)
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    response = client.post(f"{API}/grids", {"community_id": community_a.id, "name": "第二网格"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201


def test_malformed_json_gets_400_in_chinese(staff_a):
    response = signed_in(staff_a).post(f"{API}/persons", "{name: 张三", content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "malformed"
    assert "JSON" in error["message"]
    assert "body" in error["fields"]


def test_a_missing_field_gets_400_naming_it(staff_a, community_a):
    response = signed_in(staff_a).post(f"{API}/persons", {"community_id": community_a.id, "name": "王五"},
                                       content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {"id_number": "必填"}
    assert "id_number" in error["message"]


def test_a_wrongly_typed_query_parameter_gets_400_naming_it(staff_a):
    response = signed_in(staff_a).get(f"{API}/persons?limit=abc")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"limit": "应为整数"}


def test_a_body_that_is_not_an_object_gets_400(staff_a):
    response = signed_in(staff_a).post(f"{API}/persons", json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_an_unknown_id_gets_404_not_found(staff_a):
    response = signed_in(staff_a).get(f"{API}/persons/999999")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "未找到", "fields": {}}


def test_a_rule_saying_no_keeps_its_status_and_chinese_message(volunteer, community_a):
    # given a volunteer, who may read but not edit places
    # when they try to create a grid
    response = signed_in(volunteer).post(f"{API}/grids", {"community_id": community_a.id, "name": "新网格"},
                                         content_type="application/json")
    # then 403 with the service's message
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert "角色" in error["message"]


def test_a_resident_gets_403_on_staff_endpoints(resident):
    response = signed_in(resident).get(f"{API}/persons")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_an_unexpected_failure_is_500_without_traceback(staff_a, monkeypatch):
    # given a bug somewhere below the API
    def broken(actor):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(place_queries, "communities_for", broken)
    # when the list is asked for
    response = signed_in(staff_a).get(f"{API}/communities")
    # then 500 in the error shape, revealing nothing
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_openapi_document_lists_the_paths(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/persons", "/api/v1/persons/{person_id}/reveal", "/api/v1/buildings/{building_id}/generate",
                 "/api/v1/communities/{community_id}/ledger/import", "/api/v1/me", "/api/v1/venues"):
        assert path in paths


def test_docs_page_loads_no_external_assets(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html


def test_an_unknown_api_path_is_404_in_the_error_shape(db):
    response = Client().get(f"{API}/no/such/thing")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_offset_beyond_any_table_is_a_400_not_a_500(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/api/v1/persons", {"offset": 99999999999999999999})
    assert response.status_code == 400
    assert "offset" in response.json()["error"]["fields"]
