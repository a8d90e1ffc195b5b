import datetime

import pytest
from django.core.exceptions import ValidationError

from fangkong.core.idnumbers import compose_resident_id, normalize_phone, parse_resident_id
from fangkong.core.masking import mask_id_number, mask_phone

# GB 11643-1999's worked example: 11010519491231002X, a woman born 1949-12-31.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_is_valid_and_yields_birth_date_and_sex():
    parsed = parse_resident_id(STANDARD_EXAMPLE)
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sex == "F"


def test_lowercase_x_and_full_width_digits_are_normalised():
    assert parse_resident_id("１１０１０５１９４９１２３１００２x").number == STANDARD_EXAMPLE


@pytest.mark.parametrize("number, code", [
    ("110105194912310021", "id_checksum"),
    ("110105194902300027", "id_birth_date"),
    ("11010519491231002", "id_format"),
    ("1101051949123100AX", "id_format"),
])
def test_bad_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as err:
        parse_resident_id(number)
    assert err.value.code == code


def test_a_birth_date_in_the_future_is_impossible():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        parse_resident_id(compose_resident_id("110105", tomorrow, 1))


def test_composed_numbers_pass_the_checksum():
    number = compose_resident_id("150105", datetime.date(1990, 5, 17), 123)
    assert parse_resident_id(number).sex == "M"


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "８６13812345678"])
def test_mainland_mobiles_are_normalised(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "010-12345678", "abc"])
def test_non_mobiles_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_masks_keep_only_the_ends():
    assert mask_id_number("11010519491231123X") == "110***********123X"
    assert mask_phone("13812345678") == "138****5678"
