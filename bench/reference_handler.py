"""The cold-start reference: a typical Powertools REST handler (validating resolver, Logger,
Metrics, Tracer, a boto3 resource), the way the Powertools docs write one. Its route does what a
typical read does: one DynamoDB GetItem and one pydantic validation of the item."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Reference")
app = APIGatewayRestResolver(enable_validation=True)
table = boto3.resource("dynamodb").Table("reference")


class Todo(BaseModel):
    id: str
    title: str


@app.get("/todos/<todo_id>")
def get_todo(todo_id: str) -> Todo:
    item = table.get_item(Key={"id": todo_id}).get("Item", {"id": todo_id, "title": "missing"})
    return Todo.model_validate(item)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
