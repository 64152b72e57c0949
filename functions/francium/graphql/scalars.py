"""The ``Amount`` scalar: amounts are 64-bit (up to 2^63-1), and GraphQL's Int is 32-bit, so they
travel as a scalar of their own, a JSON integer like REST's."""

from __future__ import annotations

from typing import NewType

import strawberry


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Amount must be an integer")
    return value


Amount = NewType("Amount", int)
AMOUNT_SCALAR = strawberry.scalar(
    name="Amount",
    description="An amount in the asset's minor units: a JSON integer up to 9223372036854775807.",
    serialize=int,
    parse_value=_amount,
)
