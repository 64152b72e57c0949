"""Relay-style connections (``edges { node cursor }``, ``pageInfo``) over the cache's cursors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from shared.errors import InvalidRequest
from shared.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT

NodeT = TypeVar("NodeT")
ItemT = TypeVar("ItemT")


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo


def page_size(first: int | None) -> int:
    """``first`` checked like REST's ``limit`` (1..100, default 20)."""
    size = DEFAULT_LIMIT if first is None else first
    if not 1 <= size <= MAX_LIMIT:
        raise InvalidRequest(
            f"first must be between 1 and {MAX_LIMIT}.",
            errors=[{"loc": ["first"], "msg": f"Input should be between 1 and {MAX_LIMIT}", "type": "value_error"}],
        )
    return size


def checked_cursor(after: str | None) -> str | None:
    if after is not None and (not after or len(after) > MAX_CURSOR_LENGTH):
        raise InvalidRequest(
            "The cursor is not valid.",
            errors=[{"loc": ["after"], "msg": "Invalid cursor", "type": "value_error"}],
        )
    return after


def connection(
    items: Sequence[ItemT],
    next_cursor: str | None,
    cursor_of: Callable[[ItemT], str],
    node_of: Callable[[ItemT], NodeT],
) -> Connection[NodeT]:
    """A connection from one page of items; every edge carries the cursor to continue after it."""
    edges = [Edge(node=node_of(item), cursor=cursor_of(item)) for item in items]
    end = next_cursor or (edges[-1].cursor if edges else None)
    return Connection(edges=edges, page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=end))
