"""Field rules shared by the public API's request models (pydantic), per the contract."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StringConstraints

HANDLE_PATTERN = r"^[a-z0-9_]{3,32}$"
ASSET_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]{0,31}$"
MAX_AMOUNT = 9_223_372_036_854_775_807
EMAIL_PATTERN = (
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


NotBlank = AfterValidator(_not_blank)  # text that is not only whitespace
Handle = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN)]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=100), NotBlank]
AssetCode = Annotated[str, StringConstraints(pattern=ASSET_CODE_PATTERN)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=12, max_length=128)]
# Amounts are integers in minor units: strict, so "10" and 1.5 (and 1.0) are refused.
Amount = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT)]
