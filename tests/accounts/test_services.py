import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from fangkong.accounts import services
from fangkong.accounts.models import ApiToken, OneTimeCode
from fangkong.core.errors import DomainError, NotAllowed, RateLimited
from fangkong.core.models import AuditEvent


class RecordingSender:
    sent: list = []

    def send_code(self, phone, code):
        RecordingSender.sent.append((phone, code))


@pytest.fixture
def sms():
    RecordingSender.sent = []
    with override_settings(FANGKONG_SMS_SENDER="tests.accounts.test_services.RecordingSender"):
        yield RecordingSender.sent


def test_resident_signs_in_with_the_code_sent_to_their_phone(resident, sms):
    services.otp_request(phone="+86 " + resident.phone)
    assert [phone for phone, _ in sms] == [resident.phone]
    assert services.otp_verify(phone=resident.phone, code=sms[0][1]) == resident


def test_a_code_works_once(resident, sms):
    services.otp_request(phone=resident.phone)
    services.otp_verify(phone=resident.phone, code=sms[0][1])
    with pytest.raises(DomainError):
        services.otp_verify(phone=resident.phone, code=sms[0][1])


def test_wrong_codes_are_counted_and_then_the_code_is_dead(resident, sms):
    services.otp_request(phone=resident.phone)
    right = sms[0][1]
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(services.OTP_MAX_ATTEMPTS):
        with pytest.raises(DomainError):
            services.otp_verify(phone=resident.phone, code=wrong)
    with pytest.raises(DomainError):
        services.otp_verify(phone=resident.phone, code=right)


def test_expired_codes_are_refused(resident, sms):
    services.otp_request(phone=resident.phone)
    OneTimeCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(DomainError):
        services.otp_verify(phone=resident.phone, code=sms[0][1])


def test_unknown_phones_get_no_code_and_no_hint(db, sms):
    services.otp_request(phone="13900000000")
    assert sms == []
    with pytest.raises(DomainError):
        services.otp_verify(phone="13900000000", code="123456")


def test_code_requests_are_rate_limited(resident, sms):
    for _ in range(5):
        services.otp_request(phone=resident.phone)
    with pytest.raises(RateLimited):
        services.otp_request(phone=resident.phone)


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_sign_in_is_blocked_after_repeated_failures_and_reset_by_success(staff_a):
    for _ in range(2):
        services.sign_in_failed("STAFF_A")
    assert not services.sign_in_blocked("staff_a")
    services.sign_in_failed("staff_a")
    assert services.sign_in_blocked("staff_a")
    services.sign_in_succeeded(staff_a)
    assert not services.sign_in_blocked("staff_a")


def test_tokens_are_stored_as_digests_and_resolve_to_their_user(admin, staff_a):
    token = services.token_create(actor=admin, user=staff_a)
    assert not ApiToken.objects.filter(digest=token).exists()
    assert services.token_user(token) == staff_a
    assert services.token_user(token + "x") is None
    assert AuditEvent.objects.filter(action="token", object_id=str(staff_a.pk)).exists()


def test_a_token_resolves_to_the_whole_user_and_notes_its_use_to_five_minutes(admin, staff_a, community_a):
    token = services.token_create(actor=admin, user=staff_a)
    user = services.token_user(token)
    assert (user.pk, user.username, user.role, user.is_active) == (staff_a.pk, "staff_a", staff_a.role, True)
    assert user.date_joined == staff_a.date_joined
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    services.token_user(token)
    assert ApiToken.objects.get().last_used_at == first_use
    ApiToken.objects.update(last_used_at=first_use - datetime.timedelta(minutes=6))
    services.token_user(token)
    assert ApiToken.objects.get().last_used_at > first_use


def test_tokens_of_deactivated_users_stop_working(admin, staff_a):
    token = services.token_create(actor=admin, user=staff_a)
    staff_a.is_active = False
    staff_a.save()
    assert services.token_user(token) is None


def test_staff_cannot_create_tokens_for_others(staff_a, staff_b):
    with pytest.raises(NotAllowed):
        services.token_create(actor=staff_a, user=staff_b)


def test_user_create_refuses_duplicates(db):
    services.user_create(actor=None, username="boss", password="x" * 12, superuser=True)
    with pytest.raises(DomainError):
        services.user_create(actor=None, username="boss", password="y" * 12)


def test_a_malformed_phone_is_a_clear_error(db):
    with pytest.raises(DomainError) as err:
        services.otp_request(phone="12345")
    assert "phone" in err.value.fields


def test_user_create_refuses_short_passwords_and_bad_phones(db):
    with pytest.raises(DomainError) as err:
        services.user_create(actor=None, username="boss", password="short")
    assert "password" in err.value.fields
    with pytest.raises(DomainError) as err:
        services.user_create(actor=None, username="boss", password="x" * 12, phone="123")
    assert "phone" in err.value.fields


def test_accounts_created_by_the_system_are_audited(db):
    user = services.user_create(actor=None, username="boss", password="x" * 12, superuser=True)
    event = AuditEvent.objects.get(action="create", object_type="user")
    assert (event.object_id, event.actor_label) == (str(user.pk), "system")
