"""Per-edge cursors: the position just after one item, in the form its list's cursor takes.

A REST page only needs the cursor after its last item; a Relay edge carries one per node. These
rebuild that position from the item itself, with the same keys its view writes (members: the
GSI1 ``members#<group>`` partition; inbox: the ``before`` sort key of messages.inbox_page;
transfers: a party's history item; holds: a party's hold item, by role and status as listed).
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.views import holds
from francium.views.messages import sort_key
from francium.views.wallets import history_partition
from shared.contracts.carbon import MemberState, member_aggregate
from shared.contracts.nickel import TransferState, transfer_aggregate
from shared.contracts.nickel_holds import HoldRole, HoldState, HoldStatus, hold_aggregate
from shared.contracts.rhenium import MessageState
from shared.pagination import encode_cursor
from shared.readcache import timekey


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


def hold_cursor(state: HoldState, party: UUID, role: HoldRole | None, status: HoldStatus | None) -> str:
    """After one hold of a party's list (GSI2 when filtered by status, else GSI1)."""
    index = "gsi2" if status else "gsi1"
    position = {
        "pk": hold_aggregate(state.id),
        "sk": holds.item_key(party, role),
        f"{index}pk": holds.holds_partition(party, role, status),
        f"{index}sk": holds.sort_key(state),
    }
    return encode_cursor(position) or ""
