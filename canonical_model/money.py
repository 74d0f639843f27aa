"""Money: non-negative euro amounts as exact :class:`~decimal.Decimal` with two decimals.

Input rules (one place, so every connector behaves the same):

* accepted: :class:`~decimal.Decimal`, :class:`int`, and :class:`str` written with a dot
  (``"612.4"``, ``"612.40"``, ``"612"``);
* refused: :class:`float` (a binary float has already lost the cents: ``0.1 + 0.2``), booleans,
  NaN/infinity, negative amounts, a decimal comma (``"612,40"``: the connector owns its locale),
  and sub-cent precision (``"612.405"``): rounding money is a business decision that belongs to the
  mapping that computes the amount, never a silent side effect of validation.

Amounts are quantised to cents (``Decimal("612.40")``) and serialised to JSON as a string
(``"612.40"``) so no consumer parses them into a float.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

CENT = Decimal("0.01")
_AMOUNT_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_ZERO = Decimal("0.00")


def parse_money(value: object) -> Decimal:
    """Validate and quantise a euro amount.

    Args:
        value: A Decimal, an int or a dot-decimal string.

    Returns:
        The amount as a Decimal with exactly two decimals.

    Raises:
        ValueError: If the value is a float, not a number, negative, or more precise than a cent.

    """
    if isinstance(value, bool | float):
        raise ValueError(
            f"money must be given as a string, an int or a Decimal, not {type(value).__name__} "
            f"({value!r}): floats lose cents"
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.fullmatch(text):
            raise ValueError(f"money must look like '612.40' (digits, optional dot), got {value!r}")
        amount = Decimal(text)
    else:
        raise ValueError(f"money must be a string, an int or a Decimal, not {type(value).__name__}")
    if not amount.is_finite():
        raise ValueError(f"money must be a finite amount, got {value!r}")
    if amount < 0:
        raise ValueError(f"money must not be negative, got {value!r}")
    try:
        quantised = amount.quantize(CENT)
    except InvalidOperation as error:
        raise ValueError(f"money amount is too large: {value!r}") from error
    if quantised != amount:
        raise ValueError(f"money has sub-cent precision, round it in the mapping first: {value!r}")
    return quantised if quantised else _ZERO


def format_money(amount: Decimal) -> str:
    """Render an amount the way it travels in JSON, e.g. ``"612.40"``.

    Args:
        amount: A quantised amount (as produced by :func:`parse_money`).

    Returns:
        Fixed-point text with two decimals, never scientific notation.

    """
    return format(amount, "f")


Money = Annotated[
    Decimal,
    PlainValidator(parse_money),
    PlainSerializer(format_money, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]+\.[0-9]{2}$",
            "description": "Amount in euros (EUR), exact, two decimals, as a string.",
            "examples": ["612.40"],
            "x-currency": "EUR",
        }
    ),
]
"""A non-negative EUR amount: exact Decimal, two decimals, a JSON string ("612.40")."""
