"""The query parameters of every paginated REST list, as the resolver validates and documents them.

Apart from shared.pagination's cursor codec: they import Powertools' OpenAPI parameter classes
(about 70 ms), which the functions that serve no REST list (the projector, maintenance) never load.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1..100).")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="Opaque cursor from a previous page's next_cursor.")
]
