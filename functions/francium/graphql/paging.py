"""Per-edge cursors: the position just after one item, in the form its list's cursor takes.

A REST page only needs the cursor after its last item; a Relay edge carries one per node. These
rebuild that position from the item itself, with the same keys its view writes (members: the
GSI1 ``members#<group>`` partition; inbox: the ``before`` sort key of messages.inbox_page;
transfers: a party's history item).
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.views.groups import timekey
from francium.views.messages import sort_key
from francium.views.wallets import history_partition
from shared.contracts.carbon import MemberState, member_aggregate
from shared.contracts.nickel import TransferState, transfer_aggregate
from shared.contracts.rhenium import MessageState
from shared.pagination import encode_cursor


def member_cursor(state: MemberState) -> str:
    position = {
        "pk": member_aggregate(state.group_id, state.entity_id),
        "sk": cache.STATE,
        "gsi1pk": f"members#{state.group_id}",
        "gsi1sk": f"{timekey(state.joined_at)}#{state.entity_id}",
    }
    return encode_cursor(position) or ""


def message_cursor(state: MessageState) -> str:
    return encode_cursor({"before": sort_key(state)}) or ""


def transfer_cursor(state: TransferState, party: UUID, asset: str | None) -> str:
    """After one transfer of a party's history (GSI2 when filtered by asset, else GSI1)."""
    index = "gsi2" if asset else "gsi1"
    position = {
        "pk": transfer_aggregate(state.id),
        "sk": f"party#{party}",
        f"{index}pk": history_partition(party, asset),
        f"{index}sk": f"{timekey(state.created_at)}#{state.id}",
    }
    return encode_cursor(position) or ""
