"""The local stack's gateway routing and its stream mapping semantics (no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.local.gateway import match
from infra.local.streams import StreamMapping
from infra.local.template import Route, load

ROOT = Path(__file__).resolve().parents[2]


def test_literal_segments_win_over_path_variables() -> None:
    routes = sorted(
        [Route("F", "GET", "/v1/entities/{entity_id}", False), Route("F", "GET", "/v1/entities/me", False)],
        key=lambda r: r.specificity,
        reverse=True,
    )
    found = match(routes, "GET", "/v1/entities/me")
    assert found is not None
    assert found[0].path == "/v1/entities/me"
    found = match(routes, "GET", "/v1/entities/123")
    assert found is not None
    assert found[1] == {"entity_id": "123"}
    assert match(routes, "POST", "/v1/entities/me") is None
    assert match(routes, "GET", "/v1/entities/1/2") is None


def test_the_template_declares_the_authorizer_and_contract_gateway_responses() -> None:
    template = load(ROOT / "template.yaml")
    assert template.authorizer_function == "AuthorizerFunction"
    assert template.gateway_responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    assert template.gateway_responses["UNAUTHORIZED"]["StatusCode"] == 401


class FakeRuntime:
    """Fails the records whose key is in ``poison`` (reporting them), or the whole batch if ``crash``."""

    def __init__(self, poison: set[str], crash: bool = False) -> None:
        self.poison, self.crash, self.calls = poison, crash, []  # type: ignore[var-annotated]

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        keys = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.calls.append(keys)
        if self.crash:
            raise RuntimeError("function error")
        return {"batchItemFailures": [{"itemIdentifier": k} for k in keys if k in self.poison]}


def records(*seqs: str) -> list[dict[str, Any]]:
    return [{"dynamodb": {"SequenceNumber": s, "Keys": {"aggregate": {"S": s}}}} for s in seqs]


def mapping(runtime: FakeRuntime, tmp_path: Path, **spec: Any) -> StreamMapping:
    spec = {"BatchSize": 10, "MaximumRetryAttempts": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"], **spec}
    return StreamMapping(runtime, "P", "T", spec, "http://127.0.0.1:1", tmp_path / "failed.jsonl", log=lambda _: None)  # type: ignore[arg-type]


def test_a_reported_failure_is_retried_from_that_record_then_sent_to_the_destination(tmp_path: Path) -> None:
    runtime = FakeRuntime(poison={"2"})
    stream = mapping(runtime, tmp_path)
    stream.deliver(records("1", "2", "3"))
    assert runtime.calls == [["1", "2", "3"], ["2", "3"], ["2", "3"]]
    assert '"startSequenceNumber": "2"' in (tmp_path / "failed.jsonl").read_text()


def test_bisection_isolates_the_poison_record(tmp_path: Path) -> None:
    runtime = FakeRuntime(poison={"3"})
    stream = mapping(runtime, tmp_path, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1)
    stream.deliver(records("1", "2", "3", "4"))
    failed = (tmp_path / "failed.jsonl").read_text().splitlines()
    assert len(failed) == 1
    assert '"batchSize": 1' in failed[0]
    assert stream.delivered == 4


def test_a_crashing_function_fails_the_whole_batch(tmp_path: Path) -> None:
    runtime = FakeRuntime(poison=set(), crash=True)
    mapping(runtime, tmp_path, MaximumRetryAttempts=1).deliver(records("1", "2"))
    assert runtime.calls == [["1", "2"], ["1", "2"]]
