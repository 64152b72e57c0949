"""Carbon's group activities: a broadcast to every member (one message row, fanned out later),
and the list of who a distribution pays (the payment itself is Nickel's ``DistributeAsset``)."""

from __future__ import annotations

from fluorine.bus import command_handler
from fluorine.commands.carbon import MANAGERS, guard, lock_group
from fluorine.commands.rhenium import fanout_events, insert_message
from fluorine.uow import UnitOfWork
from shared.contracts.carbon import ListRecipients, Recipients, group_aggregate
from shared.contracts.rhenium import MessageState, SendGroupBroadcast, fanout_aggregate


@command_handler(SendGroupBroadcast, acts_as="actor_id")
def send_group_broadcast(cmd: SendGroupBroadcast, uow: UnitOfWork) -> MessageState:
    """One message row. Its fan-out runs later, from the change feed; but its recipients are fixed
    now, under the group's lock (the fanned members of this instant), so the write version names
    every fan-out event to come: a read with it waits until every copy is in the read cache, as it
    would wait for the message itself."""
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, MANAGERS)
    state = insert_message(uow, cmd.id, cmd.actor_id, {"to_group": cmd.group_id}, cmd.body)
    for batch in range(fanout_events(group.fanned_members)):
        uow.left_in_place(fanout_aggregate(state.id, batch), 1)
    return state


@command_handler(ListRecipients, acts_as="actor_id")
def list_group_recipients(cmd: ListRecipients, uow: UnitOfWork) -> Recipients:
    """Read-only: checks the actor's role and lists the other current members, by joining time."""
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, MANAGERS)
    rows = uow.execute(
        "SELECT entity_id FROM group_members WHERE group_id = %s AND left_at IS NULL AND entity_id <> %s"
        " ORDER BY joined_at",
        (group.id, cmd.actor_id),
    ).fetchall()
    uow.left_in_place(group_aggregate(group.id), group.version)  # what a distribution paying no one answers
    return Recipients(recipients=[row[0] for row in rows], group_version=group.version)
