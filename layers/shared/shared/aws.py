"""AWS clients, created lazily once per container (and per thread locally) and reused.

They are botocore's clients, made from one botocore session: what ``boto3.client`` returns, without
importing boto3, whose import also loads s3transfer (about 100 ms of every cold start, for S3
transfer methods no function uses).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from shared import snapstart
from shared.settings import get_settings

if TYPE_CHECKING:
    from concurrent.futures import Executor

T = TypeVar("T")
R = TypeVar("R")
_local = threading.local()
_making = threading.Lock()  # a botocore session makes one client at a time (it is not thread-safe)
_sessions: list[Any] = []


def session() -> Any:
    """The process's botocore session (credentials and region resolution, service models)."""
    if not _sessions:
        import botocore.session

        _sessions.append(botocore.session.get_session())
    return _sessions[0]


def make_client(service: str, **options: Any) -> Any:
    """A new botocore client of ``service`` (``boto3.client``'s arguments)."""
    with _making:
        return session().create_client(service, **options)


def _client(service: str, endpoint: str | None, **config: Any) -> Any:
    """A boto3 client of this container (this thread, locally), made once: the function's region,
    ``endpoint`` if given, and never a request off the machine in local and test stages."""
    client = getattr(_local, service, None)
    if client is None:
        from botocore.config import Config

        settings = get_settings()
        client = make_client(service, region_name=settings.region, endpoint_url=endpoint, config=Config(**config))
        if settings.is_local:  # local and test stages never reach AWS (shared/local_only.py)
            from shared.local_only import refuse_remote

            refuse_remote(client, settings.stage)
        setattr(_local, service, client)
    return client


def dynamodb() -> Any:
    """The low-level DynamoDB client (honours ``DYNAMODB_ENDPOINT`` for local stacks and tests)."""
    retries = {"mode": "standard", "max_attempts": 5}
    return _client("dynamodb", get_settings().dynamodb_endpoint, retries=retries, connect_timeout=3, read_timeout=5)


def connections_api() -> Any:
    """The WebSocket API's ``@connections`` management client (``REALTIME_ENDPOINT``): pushes are
    short and one dead client must not hold the others, so timeouts are tight and retries few."""
    endpoint = get_settings().realtime_endpoint
    retries = {"mode": "standard", "max_attempts": 2}
    return _client("apigatewaymanagementapi", endpoint, retries=retries, connect_timeout=2, read_timeout=3)


def current_clients() -> dict[str, Any]:
    """This thread's clients, to lend to worker threads (a boto3 client is safe to share between
    threads once made; making one is not, and costs tens of milliseconds)."""
    return dict(_local.__dict__)


def use_clients(clients: dict[str, Any]) -> None:
    """Use ``clients`` (another thread's ``current_clients``) in this thread."""
    _local.__dict__.update(clients)


def lent(work: Callable[[T], R]) -> Callable[[T], R]:
    """``work``, to run in another thread with this thread's clients (make the clients the work
    needs before: they are made once, here)."""
    clients = current_clients()

    def with_clients(item: T) -> R:
        use_clients(clients)
        return work(item)

    return with_clients


def in_threads(pool: Executor, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``work`` on every item in ``pool``'s threads, answers in order, with this thread's clients."""
    return list(pool.map(lent(work), items))


def reset_clients() -> None:
    _local.__dict__.clear()
    _sessions.clear()


# The DynamoDB operations the functions' common paths make, with placeholder parameters: priming
# runs them through the client without sending them (``shared.snapstart.exercise``).
_KEY = {"pk": {"S": "prime"}, "sk": {"S": "prime"}}
DYNAMODB_CALLS: dict[str, dict[str, Any]] = {
    "GetItem": {"TableName": "prime", "Key": _KEY},
    "BatchGetItem": {"RequestItems": {"prime": {"Keys": [_KEY]}}},
    "Query": {
        "TableName": "prime",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": _KEY["pk"]},
    },
    "PutItem": {"TableName": "prime", "Item": _KEY},
    "DeleteItem": {"TableName": "prime", "Key": _KEY},
}


def prime_dynamodb(*operations: str) -> None:
    """The DynamoDB client built and its common operations' models loaded (for a function's prime):
    ``operations`` only, if named (a function whose common run makes few calls loads no more)."""
    calls = {name: DYNAMODB_CALLS[name] for name in operations} if operations else DYNAMODB_CALLS
    snapstart.exercise(dynamodb(), calls)


@snapstart.after_restore
def drop_connections() -> None:
    """Close the clients' pooled connections: after a restore they are dead (the pools reopen on use)."""
    for client in list(_local.__dict__.values()):
        client._endpoint.http_session.close()
