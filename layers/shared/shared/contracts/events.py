"""The change feed's catalogue: every aggregate type and the state its events carry.

Exported as JSON Schema to schema/events/ (``make schemas``), so consumers outside this
repository can read the feed with a contract rather than by example.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.contracts.carbon import GroupState, MemberState
from shared.contracts.changes import ChangeRecord
from shared.contracts.nickel import AssetState, BalanceState, TransferState
from shared.contracts.nickel_holds import HoldState
from shared.contracts.oxygen import EntityState
from shared.contracts.oxygen_auth import SessionState
from shared.contracts.rhenium import FanoutBatch, InboxCount, MessageState, ReadState, Withdrawal

# aggregate type (the prefix of ``ChangeRecord.aggregate``) → the model of every event's payload
STATE_BY_AGGREGATE: dict[str, type[BaseModel]] = {
    "entity": EntityState,
    "session": SessionState,
    "asset": AssetState,
    "wallet": BalanceState,
    "transfer": TransferState,
    "hold": HoldState,
    "group": GroupState,
    "member": MemberState,
    "message": MessageState,
    "read": ReadState,
    "fanout": FanoutBatch,
    "withdrawal": Withdrawal,
    "unread": InboxCount,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema: the record envelope, and each aggregate type's payload."""
    schemas = {"change-record.json": ChangeRecord.model_json_schema()}
    for aggregate, model in STATE_BY_AGGREGATE.items():
        schemas[f"{aggregate}.json"] = model.model_json_schema()
    return schemas
