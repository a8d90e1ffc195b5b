"""Signing in and out: staff by password (throttled), residents by one-time code."""

import re

import pytest
from django.urls import reverse

from fangkong.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_staff_signs_in_with_password_and_lands_on_home(client, staff_a, password):
    response = _sign_in(client, "staff_a", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    event = AuditEvent.objects.get(action="sign_in")
    assert event.via == "web" and event.client_address == "127.0.0.1"


def test_sign_in_follows_a_local_next_but_not_a_foreign_one(client, staff_a, password):
    local = client.post(reverse("accounts:login") + "?next=/people/", {"username": "staff_a", "password": password})
    assert local["Location"] == "/people/"
    client.logout()
    foreign = client.post(reverse("accounts:login") + "?next=https://evil.example/",
                          {"username": "staff_a", "password": password})
    assert foreign["Location"] == reverse("web:home")


def test_wrong_password_gets_a_chinese_message(client, staff_a):
    response = _sign_in(client, "staff_a", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(client, staff_a, password):
    # Given five wrong passwords
    for _ in range(5):
        _sign_in(client, "staff_a", "wrong-password")
    # When the right password is given
    response = _sign_in(client, "staff_a", password)
    # Then the account is refused for 15 minutes, in Chinese
    assert response.status_code == 200
    assert "请15分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_post_and_ends_the_session(client, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_resident_signs_in_with_a_one_time_code_and_sees_only_their_household(client, resident, person_a, person_b,
                                                                              caplog):
    # Given a code sent to the resident's phone (the default sender writes it to the log)
    caplog.set_level("INFO", logger="fangkong.sms")
    response = client.post(reverse("accounts:resident_login"), {"phone": "138 0000 1234"})
    assert "验证码" in response.content.decode()
    code = re.search(r"one-time code for 138\*\*\*\*1234: (\d{6})", caplog.text).group(1)
    assert "13800001234" not in caplog.text
    # When the resident enters it
    response = client.post(reverse("accounts:resident_login"), {"phone": "13800001234", "code": code})
    assert response["Location"] == reverse("accounts:household")
    # Then the household page lists their household's members, masked, and nobody else
    page = client.get(reverse("accounts:household")).content.decode()
    assert "张三" in page and "138****1234" in page
    assert person_a.id_number not in page
    assert "李四" not in page
    # And the staff pages stay closed to them
    assert client.get(reverse("people:list"))["Location"] == reverse("accounts:household")
    assert client.get(reverse("people:detail", args=[person_a.pk]))["Location"] == reverse("accounts:household")


def test_resident_with_a_wrong_code_stays_signed_out(client, resident):
    client.post(reverse("accounts:resident_login"), {"phone": "13800001234"})
    response = client.post(reverse("accounts:resident_login"), {"phone": "13800001234", "code": "000000"})
    assert response.status_code == 200
    assert "验证码错误或已过期" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_malformed_phone_is_a_field_error(client, db):
    response = client.post(reverse("accounts:resident_login"), {"phone": "12345"})
    assert "手机号应为11位中国大陆手机号" in response.content.decode()


def test_language_switch_to_english_and_back(client, staff_a):
    client.force_login(staff_a)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("web:home")).content.decode()
    assert 'lang="en"' in english and "Sign out" in english and "Special populations" in english
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = client.get(reverse("web:home")).content.decode()
    assert 'lang="zh-hans"' in chinese and "退出" in chinese
