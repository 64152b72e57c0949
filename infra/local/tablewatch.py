"""The local stack's watch over its DynamoDB tables.

With ``DYNAMODB_ENDPOINT`` the tables live on an endpoint the stack does not own, where they can be
deleted behind its back. Every few seconds the watch checks that each table of template.yaml is
there; one that is gone is created again (empty) and refilled from PostgreSQL by the maintenance
function's ``rebuild`` (version-conditional: the projector may run meanwhile), so the stack serves
again without a restart. Until then readers answer 503 ``not_ready`` (shared/http.py), and the
stream mappings follow a recreated change feed on its new stream (infra/local/streams.py).
Deployed, the tables are the stack's own resources: their loss is a restore, not this.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.local.runtime import Runtime
from infra.local.services import create_tables
from shared.settings import get_settings

EVERY_SECONDS = 5.0


def maintenance_function(runtime: Runtime) -> str:
    return next(n for n, f in runtime.template.functions.items() if f.handler == "francium.maintenance.handler")


class TableWatch:
    def __init__(self, runtime: Runtime, endpoint: str, log: Any = print, every: float = EVERY_SECONDS) -> None:
        self.runtime, self.endpoint, self.log, self.every = runtime, endpoint, log, every
        self.client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=get_settings().region)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="table-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def missing(self) -> list[str]:
        gone = []
        for name in self.runtime.template.tables:
            try:
                self.client.describe_table(TableName=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                gone.append(name)
        return gone

    def check(self) -> list[str]:
        """Recreate and refill the tables that are gone; their names."""
        gone = self.missing()
        if gone:
            self.log(f"DynamoDB tables gone: {', '.join(gone)}; creating them again and rebuilding from PostgreSQL")
            create_tables(self.endpoint, self.runtime.template)
            done = self.runtime.invoke(maintenance_function(self.runtime), {"action": "rebuild"}, timeout=900)
            self.log(
                f"rebuilt after the loss: {done.get('rewritten')} read-cache items, {done.get('rederived')} messages"
            )
        return gone

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.check()
            except Exception as exc:  # the endpoint away for a moment: try again next time
                self.log(f"table watch: {exc!r}")
