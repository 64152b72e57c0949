"""The local stack's metrics page and dashboard move with the traffic (what CloudWatch shows deployed)."""

from __future__ import annotations

import httpx

from tests.e2e.contract_support import admin_headers, assert_written, key, new_asset, register
from tests.support.polling import wait_until


def metrics(client: httpx.Client) -> dict:  # type: ignore[type-arg]
    answer = client.get("/local/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()  # type: ignore[no-any-return]


def test_a_transfer_moves_the_local_metrics_and_the_dashboard(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 900}, headers={**admin, **key()})
    assert_written(issued, 201)
    before = metrics(client)
    moved_before = before["by"]["value_moved_by_asset"].get(code, 0)
    paid = client.post(
        "/v1/transfers", json={"to": bob.id, "asset": code, "amount": 250}, headers={**alice.headers, **key()}
    )
    assert_written(paid, 201)
    unknown = client.get("/v1/messages/not-a-message", headers=alice.headers)
    assert unknown.status_code == 404
    after = wait_until(
        lambda: metrics(client),
        lambda m: m["read_side_lag_ms"]["samples"] > before["read_side_lag_ms"]["samples"],
        "the transfer projected",
    )
    assert after["by"]["value_moved_by_asset"][code] == moved_before + 250
    assert after["by"]["events_by_type"]["TransferPosted"] > before["by"]["events_by_type"].get("TransferPosted", 0)
    assert after["by"]["errors_by_code"]["not_found"] > before["by"]["errors_by_code"].get("not_found", 0)
    assert after["by"]["requests_by_element"]["nickel"] > before["by"]["requests_by_element"].get("nickel", 0)
    assert after["read_side_lag_ms"]["p99"] is not None
    page = client.get("/local/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert code in page.text
    assert "TransferPosted" in page.text
    assert "Read side lag" in page.text
