"""What maintenance relies on without I/O: which consumer derives what, and where a local stack's stores are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from francium.derived import CONSUMERS, stream_record
from infra.local import stores
from infra.local.template import load
from rhenium.trigger import transfer_notice
from shared.contracts.changes import ChangeRecord

ROOT = Path(__file__).resolve().parents[2]


def test_each_deriving_consumer_is_the_function_whose_mapping_the_template_filters_to_its_event_type() -> None:
    functions = load(ROOT / "template.yaml").functions.values()
    by_handler = {f.handler: f for f in functions}
    for event_type, handler in CONSUMERS.items():
        (mapping,) = by_handler[handler].streams
        (pattern,) = mapping["FilterCriteria"]["Filters"]
        assert event_type in json.loads(pattern["Pattern"])["dynamodb"]["NewImage"]["event_type"]["S"]


def test_a_replayed_event_reads_as_the_change_feed_s_stream_record_to_its_consumer() -> None:
    payload = {
        "id": "0b6f0d1e-8f5c-4d8e-9a51-0c2f6f0e7a11",
        "from": None,
        "to": "1b6f0d1e-8f5c-4d8e-9a51-0c2f6f0e7a11",
        "asset": "USD",
        "amount": 5,
        "kind": "issue",
        "created_at": "2030-01-01T00:00:00Z",
    }
    record = ChangeRecord(
        aggregate=f"transfer#{payload['id']}",
        version=1,
        event_type="TransferPosted",
        payload=payload,
        seq=42,
        occurred_at="2030-01-01T00:00:00Z",  # type: ignore[arg-type]
    )
    notice = transfer_notice(DynamoDBRecord(stream_record(record)))
    assert notice is not None
    assert (str(notice.id), str(notice.to), notice.amount) == (payload["id"], payload["to"], 5)


def test_the_environment_names_the_stores_before_the_record_does(tmp_path: Path) -> None:
    stores.record(tmp_path, "http://127.0.0.1:1", "postgresql:///recorded")
    assert stores.locate(tmp_path, {}) == stores.Stores("http://127.0.0.1:1", "postgresql:///recorded")
    named = stores.locate(tmp_path, {"DATABASE_URL": "postgresql:///named"})
    assert named == stores.Stores("http://127.0.0.1:1", "postgresql:///named")
    stores.forget(tmp_path)
    assert isinstance(stores.locate(tmp_path, {}), str)


def test_the_record_of_a_stack_that_died_is_not_believed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    path = stores.record(tmp_path, "http://127.0.0.1:1", "postgresql:///recorded")
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": int(dead.stdout)}))
    assert "No running local stack" in str(stores.locate(tmp_path, {}))
    assert stores.locate(tmp_path, {"DATABASE_URL": "a", "DYNAMODB_ENDPOINT": "b"}) == stores.Stores("b", "a")
    assert path.stat().st_mode & 0o777 == 0o600  # the embedded database's URL: the owner's only
