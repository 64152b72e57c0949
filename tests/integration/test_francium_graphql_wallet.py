"""GraphQL over Nickel's read views: assets, the wallet's balances, transfer history and holds."""

from __future__ import annotations

from tests.integration.graphql_support import codes, graphql
from tests.integration.nickel_support import capture, hold, issue, new_asset, pay, reverse
from tests.integration.social_support import person, read
from tests.support.streams import StreamDriver

BIG = 9_223_372_036_854_775_807
TRANSFERS = (
    "query($a: String, $asset: String) { wallet { transfers(first: 2, after: $a, asset: $asset) {"
    " edges { cursor node { id from to asset amount kind memo } } pageInfo { hasNextPage endCursor } } } }"
)


def test_assets_and_asset_answer_like_rest_and_an_unknown_code_is_not_found(stack: StreamDriver) -> None:
    # Given two assets
    admin = person(stack, frozenset({"admin"}))
    usd, gold = new_asset(stack, admin, "USD"), new_asset(stack, admin, "GOLD", scale=3)

    # When they are asked for, with an unknown and a malformed code
    answer = graphql(
        admin,
        '{ assets { code name scale createdAt } asset(code: "GOLD") { code scale }'
        ' unknown: asset(code: "NOPE") { code } bad: asset(code: "lower") { code } }',
    )

    # Then the list is by code, the asset is there and the other two are null with not_found
    data = answer.body["data"]
    assert [a["code"] for a in data["assets"]] == [gold["code"], usd["code"]]
    assert data["assets"][1]["name"] == usd["name"]
    assert data["asset"] == {"code": "GOLD", "scale": 3}
    assert (data["unknown"], data["bad"]) == (None, None)
    assert codes(answer) == ["not_found", "not_found"]


def test_wallet_balances_carry_64_bit_amounts_as_json_integers(stack: StreamDriver) -> None:
    # Given the largest amount issued to alice
    admin, alice = person(stack, frozenset({"admin"})), person(stack)
    new_asset(stack, admin, "USD")
    assert issue(stack, admin, alice, BIG).status == 201

    # When alice asks for her wallet
    answer = graphql(alice, "{ wallet { balances { asset amount held available scale } } }")

    # Then the amount is exact, an integer, as REST has it
    balance = {"asset": "USD", "amount": BIG, "held": 0, "available": BIG, "scale": 2}
    assert answer.body == {"data": {"wallet": {"balances": [balance]}}}
    assert read("/v1/wallets/me", alice).body["balances"] == [balance]


def test_wallet_transfers_page_newest_first_and_filter_by_asset(stack: StreamDriver) -> None:
    # Given alice received an issue of two assets and paid bob three times
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    for code in ("USD", "EUR"):
        new_asset(stack, admin, code)
        assert issue(stack, admin, alice, 1000, code).status == 201
    for amount in (1, 2, 3):
        assert pay(stack, alice, bob, amount, memo=f"#{amount}").status == 201

    # When she pages through her history two at a time, and through her EUR history
    seen, after = [], None
    while True:
        page = graphql(alice, TRANSFERS, {"a": after}).body["data"]["wallet"]["transfers"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    euros = graphql(alice, TRANSFERS, {"asset": "EUR"}).body["data"]["wallet"]["transfers"]

    # Then the order is REST's (newest first), and the EUR history is just its issue
    rest = read("/v1/wallets/me/transfers", alice, query={"limit": "100"}).body["items"]
    assert [t["id"] for t in seen] == [t["id"] for t in rest]
    assert [(t["amount"], t["memo"], t["to"]) for t in seen[:3]] == [
        (a, f"#{a}", str(bob.entity_id)) for a in (3, 2, 1)
    ]
    assert [(e["node"]["kind"], e["node"]["from"]) for e in euros["edges"]] == [("issue", None)]
    assert euros["pageInfo"]["hasNextPage"] is False


def test_a_transfer_edge_cursor_continues_after_its_node_and_a_bad_asset_is_invalid(stack: StreamDriver) -> None:
    # Given three payments from alice
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin, "USD")
    issue(stack, admin, alice, 100)
    for amount in (1, 2, 3):
        pay(stack, alice, bob, amount)
    query = "query($a: String) { wallet { transfers(first: 10, after: $a) { edges { cursor node { amount } } } } }"
    everything = graphql(alice, query).body["data"]["wallet"]["transfers"]["edges"]

    # When continuing after the first edge, and asking with a malformed asset code
    rest = graphql(alice, query, {"a": everything[0]["cursor"]}).body["data"]["wallet"]["transfers"]["edges"]
    bad = graphql(alice, '{ wallet { transfers(asset: "no good") { edges { cursor } } } }')

    # Then the rest follows, and the bad code is invalid_request
    assert [e["node"]["amount"] for e in rest] == [e["node"]["amount"] for e in everything[1:]]
    assert codes(bad) == ["invalid_request"]


HOLDS = (
    "query($a: String, $role: HoldRole, $status: HoldStatus) { wallet {"
    " balances { asset amount held available }"
    " holds(first: 2, after: $a, role: $role, status: $status) {"
    " edges { cursor node { id from to amount captured status memo expiresAt } }"
    " pageInfo { hasNextPage endCursor } } } }"
)


def test_wallet_holds_page_newest_first_by_role_and_status_with_held_and_available_balances(
    stack: StreamDriver,
) -> None:
    # Given alice holding three times for bob (the first captured), and bob once for alice
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin, "USD")
    issue(stack, admin, alice, 100)
    issue(stack, admin, bob, 100)
    ids = [hold(stack, alice, bob, amount, memo=f"#{amount}").body["id"] for amount in (10, 20, 30)]
    theirs = hold(stack, bob, alice, 5).body["id"]
    assert capture(stack, bob, ids[0], 4).status == 201

    # When alice pages through all her holds, and asks for those she pays that are pending
    seen, after = [], None
    while True:
        wallet = graphql(alice, HOLDS, {"a": after}).body["data"]["wallet"]
        seen += [e["node"] for e in wallet["holds"]["edges"]]
        if not wallet["holds"]["pageInfo"]["hasNextPage"]:
            break
        after = wallet["holds"]["pageInfo"]["endCursor"]
    pending = graphql(alice, HOLDS, {"role": "PAYER", "status": "PENDING"}).body["data"]["wallet"]

    # Then the order is REST's, the statuses are GraphQL enums, and the balance shows what is held
    rest = read("/v1/holds", alice, query={"limit": "100"}).body["items"]
    assert [h["id"] for h in seen] == [h["id"] for h in rest] == [theirs, *reversed(ids)]
    assert [(h["status"], h["captured"]) for h in seen] == [
        ("PENDING", 0),
        ("PENDING", 0),
        ("PENDING", 0),
        ("CAPTURED", 4),
    ]
    assert [e["node"]["id"] for e in pending["holds"]["edges"]] == [ids[2], ids[1]]
    assert pending["holds"]["pageInfo"]["hasNextPage"] is False
    assert pending["balances"] == [{"asset": "USD", "amount": 96, "held": 50, "available": 46}]
    rest_of = graphql(alice, HOLDS, {"role": "PAYER", "status": "PENDING", "a": pending["holds"]["edges"][0]["cursor"]})
    assert [e["node"]["id"] for e in rest_of.body["data"]["wallet"]["holds"]["edges"]] == [ids[1]]
    bad = graphql(alice, "{ wallet { holds(status: OPEN) { edges { cursor } } } }")
    assert (bad.status, codes(bad)) == (400, ["invalid_request"])


def test_a_reversal_names_the_transfer_it_reverses_in_the_history(stack: StreamDriver) -> None:
    # Given a payment from alice to bob, reversed by an admin
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin, "USD")
    issue(stack, admin, alice, 100)
    paid = pay(stack, alice, bob, 30).body
    undone = reverse(stack, admin, paid["id"], "paid twice").body

    # When bob reads his history
    query = "{ wallet { transfers { edges { node { id kind memo reverses } } } } }"
    edges = graphql(bob, query).body["data"]["wallet"]["transfers"]["edges"]

    # Then the reversal comes first and names the payment; the payment names nothing
    assert [e["node"] for e in edges] == [
        {"id": undone["id"], "kind": "reversal", "memo": "paid twice", "reverses": paid["id"]},
        {"id": paid["id"], "kind": "transfer", "memo": None, "reverses": None},
    ]
