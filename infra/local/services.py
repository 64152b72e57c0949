"""The local stack's backing services: DynamoDB (moto server), PostgreSQL (pgserver), dev keys."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from infra.local.template import Template
from shared.settings import get_settings

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Services:
    """What was started here (and so must be stopped here)."""

    dynamodb_endpoint: str
    database_url: str
    stoppers: list[Any] = field(default_factory=list)
    started: tuple[str, ...] = ()  # "dynamodb", "postgres": the stores this process runs (and loses on exit)

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            with contextlib.suppress(Exception):  # best effort at shutdown
                stop()
        self.stoppers.clear()


def start_dynamodb() -> tuple[str, Any]:
    """moto's DynamoDB server in a process of its own (``infra.local.dynamodb_server``); its
    endpoint and how to stop it."""
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "infra.local.dynamodb_server", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = server.stdout.readline() if server.stdout is not None else ""
    if server.stdout is not None:
        server.stdout.close()  # the server writes nothing more to it
    if ready.strip() != "ready":
        server.kill()
        raise RuntimeError(f"the local DynamoDB server did not start (exit status {server.wait()})")

    def stop() -> None:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    return f"http://127.0.0.1:{port}", stop


def start_postgres(data_dir: Path | None = None) -> tuple[str, Any]:
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's platformdirs, harmless
    import pgserver

    directory = data_dir or Path(tempfile.mkdtemp(prefix="elements-pg-"))
    server = pgserver.get_server(str(directory), cleanup_mode="delete" if data_dir is None else "stop")
    return server.get_uri(), server.cleanup


def table_spec(name: str, props: dict[str, Any]) -> dict[str, Any]:
    """create_table arguments for a template table (named by its logical id locally)."""
    spec: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if "StreamSpecification" in props:
        spec["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if "GlobalSecondaryIndexes" in props:
        spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return spec


def create_tables(endpoint: str, template: Template) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=get_settings().region)
    existing = set(client.list_tables()["TableNames"])
    for name, props in template.tables.items():
        if name not in existing:
            with contextlib.suppress(client.exceptions.ResourceInUseException):  # created meanwhile (the table watch)
                client.create_table(**table_spec(name, props))


def ensure_dev_keys(directory: Path) -> Path:
    """A development signing key, created once under .local/ (never committed)."""
    from shared.auth.keys import generate_signing_key_pem

    path = directory / "dev-signing-key.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_signing_key_pem())
        path.chmod(0o600)
    return path


def ensure_write_version_key(directory: Path) -> Path:
    """The HMAC key of write version tokens, created once under .local/ so tokens outlive a restart."""
    import secrets

    path = directory / "write-version.key"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path


def use_local_credentials() -> None:
    """Dummy AWS credentials and region, unless set: local stores take any, and nothing reaches AWS."""
    for key, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(key, value)


def start(template: Template) -> Services:
    """Start (or adopt, when DYNAMODB_ENDPOINT / DATABASE_URL are set) the services, then prepare them."""
    use_local_credentials()
    stoppers: list[Any] = []
    started: list[str] = []
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        endpoint, stop = start_dynamodb()
        stoppers.append(stop)
        started.append("dynamodb")
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        database_url, stop = start_postgres()
        stoppers.append(stop)
        started.append("postgres")
    services = Services(endpoint, database_url, stoppers, tuple(started))
    try:
        create_tables(endpoint, template)
        from fluorine.migrations import migrate

        migrate(database_url)
    except Exception:
        services.stop()
        raise
    return services
