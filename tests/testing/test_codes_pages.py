"""Personal code pages: a resident sees the codes of their own household; staff print a household's card."""

from django.urls import reverse

from fangkong.core.models import AuditEvent
from fangkong.people.codes import personal_code
from tests.people.factories import PersonFactory


def test_a_resident_sees_a_code_for_each_member_of_their_household_only(client, resident, person_a, household_a,
                                                                        person_b):
    # Given person A's household has a second member, and person B lives elsewhere
    child = PersonFactory(household=household_a, name="张小三")
    client.force_login(resident)

    # When the resident opens their code page
    response = client.get(reverse("testing:my_code"))

    # Then it shows a QR for each member of their household and nobody else
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 2
    assert f'data-person="{person_a.pk}"' in page and f'data-person="{child.pk}"' in page
    assert "李四" not in page


def test_a_resident_cannot_open_a_household_card(client, resident, household_a):
    client.force_login(resident)
    response = client.get(reverse("testing:household_card", args=[household_a.pk]))
    assert response.status_code == 302


def test_staff_print_a_household_card_and_the_printing_is_logged(client, grid_member_a, household_a, person_a):
    client.force_login(grid_member_a)
    response = client.get(reverse("testing:household_card", args=[household_a.pk]))

    assert response.status_code == 200
    assert "张三" in response.content.decode() and "<svg" in response.content.decode()
    event = AuditEvent.objects.get(action="export", object_type="household")
    assert event.object_id == str(household_a.pk)


def test_a_household_card_of_another_community_is_404(client, grid_member_b, staff_b, household_a):
    for user in (grid_member_b, staff_b):
        client.force_login(user)
        assert client.get(reverse("testing:household_card", args=[household_a.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_api_gives_a_staff_device_the_code_text_and_404_outside_scope(client, grid_member_a, grid_member_b,
                                                                         person_a):
    client.force_login(grid_member_a)
    response = client.get(f"/api/v1/persons/{person_a.pk}/personal-code")
    assert response.status_code == 200
    assert response.json()["code"].startswith("FK1:")
    assert response.json()["code"].split(":")[1] == personal_code(person_a).split(":")[1]

    client.force_login(grid_member_b)
    assert client.get(f"/api/v1/persons/{person_a.pk}/personal-code").status_code == 404
