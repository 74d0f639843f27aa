import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from canonical_model import Lease, format_money, parse_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("412.37", Decimal("412.37")),
        ("612.4", Decimal("612.40")),
        ("86", Decimal("86.00")),
        (" 86.50 ", Decimal("86.50")),
        (1250, Decimal("1250.00")),
        (Decimal("286.900"), Decimal("286.90")),
        ("0", Decimal("0.00")),
        (Decimal("-0.00"), Decimal("0.00")),
    ],
)
def test_accepted_amounts_are_quantised_to_cents(value: Any, expected: Decimal) -> None:
    amount = parse_money(value)
    assert amount == expected
    assert amount.as_tuple().exponent == -2
    assert not amount.is_signed()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (412.37, "float"),
        (True, "bool"),
        ("-12.50", "negative"),
        (Decimal("-12.50"), "negative"),
        ("612,40", "612.40"),
        ("612.405", "sub-cent"),
        ("6.1e2", "digits"),
        (Decimal("NaN"), "finite"),
        (Decimal("1E+40"), "too large"),
        (None, "NoneType"),
    ],
)
def test_refused_amounts_say_why(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_money(value)


def test_cents_add_up_exactly(lease: Lease) -> None:
    assert lease.monthly_rent + lease.monthly_charges == Decimal("498.87")
    assert parse_money("0.10") + parse_money("0.20") == parse_money("0.30")


def test_json_carries_amounts_as_strings(lease: Lease) -> None:
    payload = json.loads(lease.model_dump_json())
    assert payload["monthly_rent"] == "412.37"
    assert payload["monthly_charges"] == "86.50"
    assert lease.model_dump(mode="json")["deposit"] == "412.37"
    assert lease.model_dump()["monthly_rent"] == Decimal("412.37")  # python mode keeps Decimal


def test_json_round_trip_is_exact(lease: Lease) -> None:
    assert Lease.model_validate_json(lease.model_dump_json()) == lease


def test_json_number_with_decimals_is_refused(lease_data: dict[str, Any]) -> None:
    text = json.dumps({**lease_data, "monthly_rent": 412.37})
    with pytest.raises(ValidationError, match="floats lose cents"):
        Lease.model_validate_json(text)
    whole_euros = Lease.model_validate_json(json.dumps({**lease_data, "monthly_rent": 412}))
    assert whole_euros.monthly_rent == Decimal("412.00")


def test_python_float_is_refused_on_the_model(lease_data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        Lease.model_validate({**lease_data, "monthly_charges": 86.5})
    assert error.value.errors()[0]["loc"] == ("monthly_charges",)


def test_big_amount_has_no_scientific_notation() -> None:
    assert format_money(parse_money(Decimal("1E+6"))) == "1000000.00"


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_any_cent_amount_survives_its_text_form(amount: Decimal) -> None:
    text = format_money(parse_money(amount))
    assert parse_money(text) == amount
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
