"""Oxygen's routes: thin adapters from HTTP to the use cases in ``oxygen.logic``."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from oxygen import logic
from oxygen.models import RegisterBody
from shared.contracts.oxygen import EntityOut
from shared.http import call_context, create_app, lambda_handler, written

app = create_app()


@app.post("/v1/entities")
def register(body: RegisterBody) -> Response[EntityOut]:
    done = logic.register(body, call_context(app))
    return written(201, EntityOut.of(done.result), done.write_version or "")


handler = lambda_handler(app)
