"""The served OpenAPI document agrees with the contract's requirements (../shared/contract.md).

Generated clients are built from this document, so a header the contract requires must be required
here, and every bound the contract states must be here, with the contract's exact numbers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.export_schemas import OPENAPI_PATH

DOCUMENT: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
MAX_AMOUNT = 9_223_372_036_854_775_807


def operation(method: str, path: str) -> dict[str, Any]:
    return DOCUMENT["paths"][path][method]  # type: ignore[no-any-return]


def body_schema(method: str, path: str) -> dict[str, Any]:
    """The request body's object schema (the object an optional body is when sent)."""
    schema = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    option = next((o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"), schema)
    return DOCUMENT["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def body_field(method: str, path: str, field: str) -> dict[str, Any]:
    found = body_schema(method, path)["properties"][field]
    return next((o for o in found.get("anyOf", []) if o.get("type") != "null"), found)  # type: ignore[no-any-return]


def header(method: str, path: str, name: str) -> dict[str, Any] | None:
    params = operation(method, path).get("parameters", [])
    return next((p for p in params if p["in"] == "header" and p["name"].lower() == name.lower()), None)


@pytest.mark.parametrize(
    ("method", "path", "required"),
    [
        ("post", "/v1/transfers", True),
        ("post", "/v1/holds", True),
        ("post", "/v1/holds/{hold_id}/capture", True),
        ("post", "/v1/transfers/{transfer_id}/reverse", True),
        ("post", "/v1/holds/{hold_id}/void", False),
        ("post", "/v1/groups/{group_id}/distribute", True),
        ("post", "/v1/assets/{code}/issue", False),
        ("post", "/v1/assets/{code}/redeem", False),
        ("post", "/v1/messages", False),
    ],
)
def test_idempotency_key_is_declared_as_the_contract_says_a_string_of_1_to_128(
    method: str, path: str, required: bool
) -> None:
    key = header(method, path, "Idempotency-Key")
    assert key is not None
    assert key["required"] is required
    assert key["schema"]["type"] == "string"  # never string-or-null: a header is absent or a string
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 128)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/v1/transfers", "amount"),
        ("post", "/v1/assets/{code}/issue", "amount"),
        ("post", "/v1/assets/{code}/redeem", "amount"),
        ("post", "/v1/groups/{group_id}/distribute", "amount_each"),
        ("post", "/v1/holds", "amount"),
        ("post", "/v1/holds/{hold_id}/capture", "amount"),
    ],
)
def test_amounts_are_integers_from_1_to_2_63_minus_1_exactly(method: str, path: str, field: str) -> None:
    amount = body_field(method, path, field)
    assert amount["type"] == "integer"
    assert (amount["minimum"], amount["maximum"]) == (1, MAX_AMOUNT)
    assert isinstance(amount["maximum"], int)  # not the float 9.223372036854776e+18


@pytest.mark.parametrize(
    ("method", "path", "field", "bounds"),
    [
        ("post", "/v1/entities", "handle", {"pattern": "^[a-z0-9_]{3,32}$"}),
        ("post", "/v1/entities", "display_name", {"minLength": 1, "maxLength": 100}),
        ("post", "/v1/entities", "password", {"minLength": 12, "maxLength": 128}),
        ("post", "/v1/transfers", "memo", {"maxLength": 280}),
        ("post", "/v1/transfers", "asset", {"pattern": "^[A-Z0-9][A-Z0-9_.-]{0,31}$"}),
        ("post", "/v1/holds", "memo", {"maxLength": 280}),
        ("post", "/v1/holds", "asset", {"pattern": "^[A-Z0-9][A-Z0-9_.-]{0,31}$"}),
        ("post", "/v1/holds", "expires_in", {"minimum": 60, "maximum": 604_800, "default": 86_400}),
        ("post", "/v1/transfers/{transfer_id}/reverse", "reason", {"minLength": 1, "maxLength": 280}),
        ("post", "/v1/assets", "code", {"pattern": "^[A-Z0-9][A-Z0-9_.-]{0,31}$"}),
        ("post", "/v1/assets", "scale", {"minimum": 0, "maximum": 18}),
        ("post", "/v1/messages", "body", {"minLength": 1, "maxLength": 4000}),
        ("post", "/v1/groups", "name", {"minLength": 1, "maxLength": 100}),
        ("post", "/v1/groups", "description", {"maxLength": 1000}),
    ],
)
def test_body_fields_carry_the_contracts_bounds(method: str, path: str, field: str, bounds: dict[str, Any]) -> None:
    schema = body_field(method, path, field)
    assert {key: schema.get(key) for key in bounds} == bounds


@pytest.mark.parametrize(
    "path",
    [
        "/v1/assets",
        "/v1/wallets/me/transfers",
        "/v1/holds",
        "/v1/messages/inbox",
        "/v1/groups",
        "/v1/entities/me/groups",
    ],
)
def test_lists_take_a_limit_of_1_to_100_defaulting_to_20_and_a_cursor(path: str) -> None:
    params = {p["name"]: p for p in operation("get", path)["parameters"]}
    limit = params["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)
    assert "cursor" in params


def test_hold_routes_say_what_a_hold_a_balance_and_a_reversal_are_in_the_contracts_words() -> None:
    # Given the documented answers of the hold and wallet routes
    hold = DOCUMENT["components"]["schemas"]["HoldOut"]
    balance = DOCUMENT["components"]["schemas"]["BalanceOut"]
    transfer = DOCUMENT["components"]["schemas"]["TransferOut"]
    # Then a hold has the contract's fields and statuses, a balance its held and available, a
    # transfer the kinds capture and reversal and the reversed transfer's id
    assert set(hold["properties"]) == {
        "id", "from", "to", "asset", "amount", "captured", "status", "memo", "expires_at", "created_at"
    }  # fmt: skip
    assert hold["properties"]["status"]["enum"] == ["pending", "captured", "voided", "expired"]
    assert list(balance["properties"]) == ["asset", "amount", "held", "available", "scale"]
    assert {"capture", "reversal"} <= set(transfer["properties"]["kind"]["enum"])
    assert "reverses" in transfer["properties"]
    # And a capture's body may be left out (the whole hold), the others may not
    assert operation("post", "/v1/holds/{hold_id}/capture")["requestBody"].get("required") is not True
    assert operation("post", "/v1/holds")["requestBody"]["required"] is True
    assert set(body_schema("post", "/v1/holds/{hold_id}/capture")["properties"]) == {"amount"}
    params = {p["name"]: p["schema"] for p in operation("get", "/v1/holds")["parameters"]}
    assert [o.get("enum") for o in params["role"]["anyOf"] if "enum" in o] == [["payer", "payee"]]


def test_graphql_declares_its_request_body_so_a_generated_client_can_send_a_query() -> None:
    body = operation("post", "/v1/graphql")["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert schema["required"] == ["query"]
    assert set(schema["properties"]) == {"query", "variables", "operationName"}


def test_every_signed_in_route_needs_the_bearer_token_and_answers_problems() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"400", "500"} <= codes, (method, path)
            if op["security"] != []:
                assert op["security"] == [{"bearerAuth": []}]
                assert {"401", "503"} <= codes, (method, path)
