"""Personal codes: they name the person, refuse forgeries and expire."""

import datetime

import pytest
from django.core import signing
from django.test import override_settings

from fangkong.core.errors import DomainError
from fangkong.people import codes


def test_a_personal_code_names_its_person_and_community(person_a):
    holder = codes.read_personal_code(codes.personal_code(person_a))

    assert (holder.person_id, holder.community_id) == (person_a.pk, person_a.community_id)


def test_a_code_with_another_persons_id_swapped_in_is_refused(person_a, person_b):
    code = codes.personal_code(person_a)
    forged = code.replace(f"{person_a.pk}.", f"{person_b.pk}.", 1)

    with pytest.raises(DomainError) as refused:
        codes.read_personal_code(forged)
    assert refused.value.code == "code_forged"


@pytest.mark.parametrize("text", ["FK1:", "FK1:abc", "FK1:1.2:xx:yy", "110101199003071234"])
def test_damaged_or_foreign_texts_are_refused_with_a_clear_code(text):
    with pytest.raises(DomainError) as refused:
        codes.read_personal_code(text)
    assert refused.value.code in {"code_forged", "not_a_code"}


def test_an_old_printed_code_expires(person_a, monkeypatch):
    code = codes.personal_code(person_a)
    later = datetime.datetime.now().timestamp() + 91 * 86400
    monkeypatch.setattr("time.time", lambda: later)

    with override_settings(FANGKONG_PERSONAL_CODE_DAYS=90), pytest.raises(DomainError) as refused:
        codes.read_personal_code(code)
    assert refused.value.code == "code_expired"


def test_the_code_renders_as_an_inline_svg_qr(person_a):
    assert codes.personal_code_svg(person_a).startswith("<svg")


def test_codes_signed_by_djangos_own_signer_are_read_as_before(person_a):
    printed = codes.PREFIX + signing.TimestampSigner(salt="fangkong.personal-code").sign(
        f"{person_a.pk}.{person_a.community_id}")

    holder = codes.personal_code_reader()(printed)

    assert (holder.person_id, holder.community_id) == (person_a.pk, person_a.community_id)


def test_a_code_from_before_a_key_rotation_is_read_and_one_from_another_key_refused(person_a):
    with override_settings(SECRET_KEY="the key the card was printed under " * 2):
        printed = codes.personal_code(person_a)

    with override_settings(SECRET_KEY_FALLBACKS=["the key the card was printed under " * 2]):
        assert codes.read_personal_code(printed).person_id == person_a.pk
    with pytest.raises(DomainError) as refused:
        codes.read_personal_code(printed)
    assert refused.value.code == "code_forged"
