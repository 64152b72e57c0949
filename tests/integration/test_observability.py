"""Metrics and correlation: one transfer as an operator sees it, through every function it crosses."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from tests.integration.nickel_support import issue, keyed, new_asset, nickel
from tests.integration.social_support import person
from tests.support.logs import captured_logs
from tests.support.streams import StreamDriver

ADMIN = frozenset({"admin"})


def emf_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def values(lines: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """Every value of metric ``name`` printed with exactly these dimensions (besides ``element``)."""
    found: list[float] = []
    for line in lines:
        directive = line["_aws"]["CloudWatchMetrics"][0]
        declared = {n for dims in directive["Dimensions"] for n in dims} - {"element"}
        named = {m["Name"] for m in directive["Metrics"]}
        if name in named and declared == set(dimensions) and all(line.get(k) == v for k, v in dimensions.items()):
            found += line[name]
    return found


def test_one_transfer_prints_its_metrics_and_every_function_logs_its_correlation_id(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an asset issued to Alice
    admin, alice, bob = person(stack, roles=ADMIN), person(stack), person(stack)
    code = f"OB{uuid.uuid4().hex[:6].upper()}"
    new_asset(stack, admin, code)
    assert issue(stack, admin, alice, 500, code, headers=keyed(None)).status == 201
    stack.settle()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    # When she pays Bob with her own request id, and the change feed reaches both consumers
    request_id = f"obs-{uuid.uuid4()}"
    with captured_logs(logging.DEBUG) as logs:
        body = {"to": str(bob.entity_id), "asset": code, "amount": 120}
        headers = {**keyed(None), "X-Request-Id": request_id}
        paid = nickel(stack, "POST", "/v1/transfers", alice, body=body, headers=headers)
        assert paid.status == 201, paid.body
        stack.settle()
        refused = nickel(stack, "POST", "/v1/transfers", alice, body={**body, "amount": 10**9}, headers=keyed(None))
        assert refused.status == 422
    printed = emf_lines(capsys.readouterr().out)
    # Then the metrics say what happened, in CloudWatch's embedded format
    assert values(printed, "Requests") == [1.0, 1.0]
    assert values(printed, "ErrorAnswers", code=refused.body["code"]) == [1.0]
    assert values(printed, "Events", event="TransferPosted") == [1.0]
    assert values(printed, "ValueMoved", asset=code) == [120.0]
    assert values(printed, "Events", event="MessageSent") == [1.0]  # Bob's system message, by the trigger
    lags = values(printed, "ProjectionLag")
    assert lags
    assert all(0 <= lag < 60_000 for lag in lags)
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Elements" for line in printed)
    # And one id finds the request in the element's, Fluorine's, the projector's and the trigger's lines
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("correlation_id") == request_id]
    said = {line["message"] for line in mine}
    assert {"answered", "command committed", "projected", "system message sent"} <= said, said
    assert all("function_name" in line and "cold_start" in line for line in mine)
