"""The rounds and sites pages: community staff create and manage, other communities get 404."""

import datetime

from django.urls import reverse

from fangkong.core import audit
from fangkong.core.models import AuditEvent
from fangkong.testing.models import RoundExemption, SamplingSite, TestRound
from tests.testing.factories import RoundExemptionFactory, SamplingSiteFactory, TestRoundFactory
from tests.zones.factories import ZoneFactory


def test_staff_create_a_round_from_the_rounds_page(client, staff_a, community_a):
    client.force_login(staff_a)
    response = client.post(reverse("testing:rounds"), {
        "community": community_a.pk, "name": "第一轮全员核酸", "on": "2022-04-10", "kind": "everyone",
        "pool_size": "20", "infant_months": "36", "exempt_away": "on", "exempt_positive": "on"})

    round = TestRound.objects.get()
    assert response.status_code == 302
    assert (round.pool_size, round.exempt_in_hospital, round.on) == (20, False, datetime.date(2022, 4, 10))
    page = client.get(reverse("testing:round_detail", args=[round.pk]))
    assert "第一轮全员核酸" in page.content.decode()


def test_a_zone_round_without_its_zone_shows_the_error_on_the_form(client, staff_a, community_a):
    client.force_login(staff_a)
    response = client.post(reverse("testing:rounds"), {
        "community": community_a.pk, "name": "封控区核酸", "on": "2022-04-10", "kind": "zone", "pool_size": "1",
        "infant_months": "0"})

    assert response.status_code == 400
    assert "区域筛查须选择" in response.content.decode()


def test_a_grid_member_sees_rounds_but_may_not_create_one(client, grid_member_a, community_a):
    TestRoundFactory(community=community_a, name="第二轮")
    client.force_login(grid_member_a)
    assert "第二轮" in client.get(reverse("testing:rounds")).content.decode()
    assert client.post(reverse("testing:rounds"), {"community": community_a.pk}).status_code == 403


def test_another_communitys_round_and_site_are_404(client, staff_b, grid_member_b, community_a):
    round = TestRoundFactory(community=community_a)
    site = SamplingSiteFactory(community=community_a)
    for user in (staff_b, grid_member_b):
        client.force_login(user)
        assert client.get(reverse("testing:round_detail", args=[round.pk])).status_code == 404
        assert client.get(reverse("testing:site_edit", args=[site.pk])).status_code == 404
        assert client.post(reverse("testing:round_close", args=[round.pk])).status_code == 404


def test_exempting_someone_by_name_and_taking_it_back(client, staff_a, community_a, person_a):
    round = TestRoundFactory(community=community_a)
    client.force_login(staff_a)

    response = client.post(reverse("testing:round_exemption_add", args=[round.pk]),
                           {"who": "张三", "reason": "in_hospital", "note": "市一医院"})
    assert response.status_code == 302
    exemption = RoundExemption.objects.get(round=round)
    assert "市一医院" in client.get(reverse("testing:round_detail", args=[round.pk])).content.decode()

    client.post(reverse("testing:round_exemption_remove", args=[round.pk, exemption.pk]))
    assert not RoundExemption.objects.exists()


def test_an_exemption_whose_recorder_left_still_shows_on_the_round(client, staff_a, community_a, person_a):
    # Given 张三 exempted by an account that has since been removed (recorded_by is empty)
    round = TestRoundFactory(community=community_a)
    RoundExemptionFactory(round=round, person=person_a, recorded_by=None)
    client.force_login(staff_a)
    # Then the round's page lists him all the same
    page = client.get(reverse("testing:round_detail", args=[round.pk]))
    assert page.status_code == 200 and f'data-exemption="{round.exemptions.get().pk}"' in page.content.decode()


def test_exempting_someone_by_their_whole_id_number_is_an_audited_identity_lookup(client, staff_a, community_a,
                                                                                    person_a):
    round = TestRoundFactory(community=community_a)
    client.force_login(staff_a)

    response = client.post(reverse("testing:round_exemption_add", args=[round.pk]),
                           {"who": person_a.id_number, "reason": "away"})

    assert response.status_code == 302
    assert RoundExemption.objects.get(round=round).person == person_a
    lookup = AuditEvent.objects.get(action=audit.Action.SEARCH_FULL_ID)
    assert (lookup.actor, lookup.fields, lookup.community_id) == (staff_a, ["id_number"], community_a.pk)


def test_exempting_someone_outside_the_round_says_so(client, staff_a, community_a, person_b):
    round = TestRoundFactory(community=community_a)
    client.force_login(staff_a)
    response = client.post(reverse("testing:round_exemption_add", args=[round.pk]), {"who": "李四", "reason": "away"})
    assert response.status_code == 400
    assert "没有找到此人" in response.content.decode()


def test_a_door_to_door_team_takes_a_sealed_unit_from_its_page(client, staff_a, community_a, unit_a, household_a,
                                                                medic):
    zone = ZoneFactory(place=unit_a)
    client.force_login(staff_a)
    client.post(reverse("testing:sites"), {"community": community_a.pk, "name": "上门一队", "kind": "door_to_door",
                                           "team": [medic.pk]})
    site = SamplingSite.objects.get()

    client.post(reverse("testing:site_roster_from_zone", args=[site.pk]), {"zone": zone.pk})

    assert list(site.roster.all()) == [household_a]
    page = client.get(reverse("testing:site_edit", args=[site.pk])).content.decode()
    assert str(household_a) in page


def test_the_round_page_links_to_the_scanner_and_coverage(client, grid_member_a, community_a):
    round = TestRoundFactory(community=community_a)
    client.force_login(grid_member_a)
    page = client.get(reverse("testing:round_detail", args=[round.pk])).content.decode()
    assert reverse("testing:scanner", args=[round.pk]) in page
    assert reverse("testing:coverage", args=[round.pk]) in page
    assert 'data-testid="round-figures"' in page
