"""``python -m infra.local``: the whole system on 127.0.0.1:$PORT, without Docker.

Reads template.yaml, starts DynamoDB (moto server) and PostgreSQL (pgserver) unless
DYNAMODB_ENDPOINT / DATABASE_URL are set, applies migrations, creates the tables, records where
its stores are (for ``make verify`` / ``make rebuild``), catches the read cache and the derived
writes up with PostgreSQL, runs the stream mapping and the schedules, ensures the admin from
ADMIN_HANDLE / ADMIN_PASSWORD, and serves the API until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "layers" / "shared", ROOT / "functions", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from infra.local import metrics, services, stores  # noqa: E402
from infra.local.gateway import Gateway, ProblemH11Protocol, create_gateway_app  # noqa: E402
from infra.local.runtime import Runtime, apply_environment, local_environment  # noqa: E402
from infra.local.scheduler import Scheduler  # noqa: E402
from infra.local.streams import StreamMapping  # noqa: E402
from infra.local.tablewatch import TableWatch, maintenance_function  # noqa: E402
from infra.local.template import Template, load  # noqa: E402
from shared import internal  # noqa: E402


class _HandshakeRefusals(logging.Filter):
    """uvicorn logs a refused WebSocket handshake (answered with an HTTP 401, as API Gateway does)
    as "ASGI callable returned without completing handshake": the refusal is the intended answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing handshake" not in record.getMessage()


def log(message: str) -> None:
    print(message, flush=True)


class _Stopped(Exception):
    """Raised by the signal handler once uvicorn has shut down."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped


def announce(server: Any, url: str) -> None:
    """Say the stack is ready once the server is listening (what scripts and tests wait for)."""
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    if server.started:
        log(f"Local stack ready at {url} (Ctrl-C to stop); metrics at {url}/local/dashboard")


def ensure_admin() -> None:
    handle, password = os.environ.get("ADMIN_HANDLE"), os.environ.get("ADMIN_PASSWORD")
    if handle and password:
        from oxygen.logic import ensure_admin as ensure

        admin = ensure(handle, password)
        log(f"platform admin ready: {admin.handle} ({admin.id})")


def catch_up(runtime: Runtime) -> None:
    """Bring the read cache and the derived writes level with PostgreSQL before serving: the
    maintenance function's ``rebuild`` (a persistent DATABASE_URL meets an empty or stale cache
    after every restart; the change feed a killed stack had not delivered is gone with it)."""
    name = maintenance_function(runtime)
    started = time.monotonic()
    try:
        # exclusive: nothing else writes the read cache before the stream mappings start
        done = runtime.invoke(name, {"action": "rebuild", "exclusive": True}, timeout=900)
    except Exception as exc:  # serve anyway: reads may be stale until `make rebuild` succeeds
        log(f"catch-up with PostgreSQL failed ({exc!r}); reads may be stale until `make rebuild`")
        return
    log(catch_up_summary(done, time.monotonic() - started))


def catch_up_summary(done: dict[str, Any], seconds: float) -> str:
    checked = f"{done['aggregates_checked']} aggregates and {done['derived_events_checked']} transfers checked"
    if done["count"] == 0:
        return f"Read cache level with PostgreSQL ({checked} in {seconds:.1f}s): nothing to replay"
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(done["by_kind"].items()))
    failed = f", {len(done['rederive_failed'])} failed (see the log)" if done["rederive_failed"] else ""
    return (
        f"Caught up with PostgreSQL in {seconds:.1f}s: {done['rewritten']} read-cache items replayed and"
        f" {done['rederived']} system messages re-derived{failed} (found {kinds}; {checked})"
    )


@contextlib.contextmanager
def stack(template: Template, state_dir: Path, url: str = "http://127.0.0.1:3000") -> Iterator[Runtime]:
    """Everything but the HTTP server: started on entry, stopped on exit."""
    svc = services.start(template)
    mappings: list[StreamMapping] = []
    scheduler: Scheduler | None = None
    watch: TableWatch | None = None
    try:
        own = {"dynamodb": svc.dynamodb_endpoint, "postgres": svc.database_url}
        stores.record(state_dir, *(own[kind] if kind in svc.started else None for kind in ("dynamodb", "postgres")))
        apply_environment(local_environment(template, svc.dynamodb_endpoint, svc.database_url, state_dir, url))
        runtime = Runtime(template)
        runtime.warm_up()
        internal.use_local_transport(runtime.invoke_concurrently)
        catch_up(runtime)
        for name, fn in template.functions.items():
            for spec in fn.streams:
                table = spec["Stream"]["Fn::GetAtt"][0]
                mapping = StreamMapping(
                    runtime, name, table, spec, svc.dynamodb_endpoint, state_dir / "on-failure.jsonl", log
                )
                mapping.start()
                mappings.append(mapping)
        scheduler = Scheduler(runtime, log)
        scheduler.start()
        watch = TableWatch(runtime, svc.dynamodb_endpoint, log)
        watch.start()
        ensure_admin()
        yield runtime
    finally:
        if watch:
            watch.stop()
        if scheduler:
            scheduler.stop()
        for mapping in mappings:
            mapping.stop()
        svc.stop()
        stores.forget(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local")))
    args = parser.parse_args(argv)

    import uvicorn

    template = load(args.template)
    url = f"http://{args.host}:{args.port}"
    logging.getLogger("uvicorn.error").addFilter(_HandshakeRefusals())
    collector = metrics.install()  # before the functions print their first metric
    with stack(template, args.state_dir, url) as runtime:
        app = create_gateway_app(Gateway(template, runtime, log, collector))
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=args.host,
                port=args.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                http=ProblemH11Protocol,
                ws="websockets-sansio",  # the websockets library, through uvicorn
            )
        )
        threading.Thread(target=announce, args=(server, url), daemon=True).start()
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: let that
        # end the ``with`` block normally so every service is stopped, and exit 0.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop)
        with contextlib.suppress(_Stopped):
            server.run()
        if not server.started:
            log(f"Could not serve on {url}.")
            return 1
    log("Local stack stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
