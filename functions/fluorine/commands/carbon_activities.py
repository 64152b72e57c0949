"""Carbon's group activities: a broadcast to every member (one message row, fanned out on read)."""

from __future__ import annotations

from fluorine.bus import command_handler
from fluorine.commands.carbon import MANAGERS, guard, lock_group
from fluorine.commands.rhenium import insert_message
from fluorine.uow import UnitOfWork
from shared.contracts.rhenium import MessageState, SendGroupBroadcast


@command_handler(SendGroupBroadcast)
def send_group_broadcast(cmd: SendGroupBroadcast, uow: UnitOfWork) -> MessageState:
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, MANAGERS)
    return insert_message(uow, cmd.id, cmd.actor_id, {"to_group": cmd.group_id}, cmd.body)
