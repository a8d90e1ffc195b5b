"""Who am I, through the API, and tokens made on the command line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from fangkong.accounts.models import ApiToken, Role
from fangkong.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.clients import signed_in

ME = "/api/v1/me"



def create_token(*args) -> str:
    out = StringIO()
    call_command("token", "create", *args, stdout=out)
    return out.getvalue().strip()


def test_community_staff_see_their_role_and_community(staff_a, community_a, grid_a):
    body = signed_in(staff_a).get(ME).json()
    assert (body["username"], body["role"], body["role_label"]) == ("staff_a", "community_staff", "社区两委/工作人员")
    assert body["scope"]["communities"] == [{"id": community_a.id, "name": "春雨社区"}]
    assert body["scope"]["everything"] is False
    assert body["may_reveal_full_values"] and body["may_export_full_values"]


def test_a_grid_member_sees_their_grid(grid_member_a, grid_a):
    body = signed_in(grid_member_a).get(ME).json()
    assert body["scope"]["grids"] == [{"id": grid_a.id, "name": "第一网格"}]
    assert body["may_export_full_values"] is False


def test_a_street_admin_sees_every_community_of_the_street(street_admin, community_a, community_b, street):
    scope = signed_in(street_admin).get(ME).json()["scope"]
    assert scope["street"] == {"id": street.id, "name": street.name}
    assert {c["name"] for c in scope["communities"]} == {"春雨社区", "安国路社区"}


def test_a_resident_sees_their_household_only(resident, household_a):
    body = signed_in(resident).get(ME).json()
    assert body["role"] == "resident"
    assert body["scope"]["household_id"] == household_a.id
    assert body["scope"]["communities"] == []
    assert body["may_reveal_full_values"] is False


def test_the_administrator_sees_everything(admin):
    body = signed_in(admin).get(ME).json()
    assert body["scope"]["everything"] is True
    assert body["role_label"] == "系统管理员"


def test_me_without_auth_is_401(db):
    response = Client().get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_token_command_prints_a_working_token_and_is_audited(admin, staff_a):
    # given the system administrator exists
    # when a token is created for staff A on the command line
    token = create_token("staff_a", "--label", "手机")
    # then it signs staff A in, only its digest is kept, and the audit says cli
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(ME).json()["username"] == "staff_a"
    stored = ApiToken.objects.get(user=staff_a)
    assert stored.label == "手机"
    assert token not in stored.digest
    event = AuditEvent.objects.get(action="token")
    assert (event.via, event.actor) == ("cli", admin)


def test_a_resident_token_works_for_me_but_not_for_staff_endpoints(admin, resident):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token('resident_a')}")
    assert client.get(ME).status_code == 200
    assert client.get("/api/v1/persons").status_code == 403


def test_a_deactivated_users_token_stops_working(admin, community_a):
    UserFactory(username="former_staff", role=Role.COMMUNITY_STAFF, communities=[community_a], is_active=False)
    token = create_token("former_staff")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(ME).status_code == 401


def test_the_token_command_names_an_unknown_user(admin):
    with pytest.raises(CommandError, match="nobody"):
        create_token("nobody")


def test_without_an_administrator_the_command_says_what_to_do(staff_a):
    with pytest.raises(CommandError, match="createadmin"):
        create_token("staff_a")


def test_acting_as_another_staff_member_may_not_mint_tokens_for_others(staff_a, staff_b):
    with pytest.raises(CommandError):
        create_token("staff_b", "--as", "staff_a")
    assert not ApiToken.objects.exists()
