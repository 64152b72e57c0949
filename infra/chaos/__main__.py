"""``python -m infra.chaos`` (``make chaos``): SIGKILL the local stack under load, check nothing is lost.

1. A persistent PostgreSQL (a fresh database in DATABASE_URL's server when set, else an embedded
   one in a temporary directory) outlives every kill; the stack's DynamoDB (read cache and change
   feed) is its in-process one, lost with every kill, as a deployed stage loses a stream record.
2. ``--clients`` processes each run ``--operations`` seeded operations (infra/chaos/workload.py).
3. At ``--kills`` random points of the workload (a random number of operations done, then a random
   fraction of a second, or, every other kill, the next acknowledged transfer and up to 10 ms) the
   stack is SIGKILLed and started again; the time from the kill until it serves again (its catch-up
   included) is that kill's recovery time.
4. At the end: every acknowledged write is in PostgreSQL, the ledger is conserved with no negative
   balance, every derived write exists, ``make verify``'s command finds no drift, and the read side
   agrees with the ledger. The figures are printed as Markdown (``--record FILE`` also writes them
   between the chaos markers of FILE, e.g. docs/reliability.md). Exit status 1 if a check failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "layers" / "shared", ROOT / "functions", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from infra.chaos import checks, report  # noqa: E402
from infra.chaos.stack import StackProcess, persistent_database, stack_environment  # noqa: E402
from infra.chaos.workload import ASSET, Spec, init_worker, run_client  # noqa: E402
from infra.local.services import free_port  # noqa: E402

ADMIN_HANDLE, ADMIN_PASSWORD = "chaos_admin", "chaos admin password"


def create_asset(url: str, admin: tuple[str, str] = (ADMIN_HANDLE, ADMIN_PASSWORD)) -> None:
    """The workload's asset, created by the platform admin (``admin``: handle and password)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        login = http.post("/v1/auth/token", json={"login": admin[0], "password": admin[1]})
        token = login.raise_for_status().json()["access_token"]
        answer = http.post(
            "/v1/assets",
            json={"code": ASSET, "name": "Chaos coin", "scale": 2},
            headers={"Authorization": f"Bearer {token}"},
        )
        if answer.status_code not in (201, 409):
            raise RuntimeError(f"could not create the asset: {answer.status_code} {answer.text}")


def kill_points(rng: random.Random, total: int, kills: int) -> list[int]:
    """``kills`` operation counts over the middle 80 % of the workload: the middle 80 % cut into
    ``kills`` equal spans, a random point in the middle of each (so the stack serves a while
    between two kills, and the workload gets through each restart)."""
    low, span = total // 10, total * 8 / 10 / max(1, kills)
    points = [int(low + span * (n + rng.uniform(0.2, 0.8))) for n in range(kills)]
    return sorted({max(1, p) for p in points})


def monkey(
    stack: StackProcess, shared: tuple[Any, Any], points: list[int], rng: random.Random, futures: list[Future[Any]]
) -> list[dict[str, Any]]:
    """SIGKILL the stack once the workload reaches each point; restart it; what each kill cost.

    Every other kill waits for the next acknowledged transfer and lands within 10 ms of it: its
    change record is most likely not through the trigger yet (about 70 ms locally), so the
    recipient's system message is lost with the change feed unless the restart re-derives it.
    """
    progress, last_transfer = shared
    started, done = time.monotonic(), []
    for n, point in enumerate(points):
        while progress.value < point and not all(f.done() for f in futures):
            time.sleep(0.01)
        if n % 2:
            seen = last_transfer.value
            while last_transfer.value == seen and not all(f.done() for f in futures):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.01))
        else:
            time.sleep(rng.uniform(0, 0.3))  # anywhere inside a request, a commit or a publish
        if all(f.done() for f in futures):
            break
        at, operations = time.monotonic(), progress.value
        stack.kill()
        catch_up = stack.start()
        done.append(
            {
                "at": at - started,
                "operations": operations,
                "after": "just after a transfer" if n % 2 else "at random",
                "recovery": time.monotonic() - at,
                "catch_up": catch_up,
            }
        )
    return done


def wallets(url: str, people: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return {
            entity: http.get("/v1/wallets/me", headers={"Authorization": f"Bearer {token}"}).json()["balances"]
            for entity, token in people.items()
        }


def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)  # noqa: S311 - a repeatable run, not a secret
    run_id = uuid.UUID(int=rng.getrandbits(128)).hex[:6]
    started = time.monotonic()
    with persistent_database() as database_url, tempfile.TemporaryDirectory(prefix="elements-chaos-") as tmp:
        env = stack_environment(database_url, Path(tmp) / "state", (ADMIN_HANDLE, ADMIN_PASSWORD))
        stack = StackProcess(args.port or free_port(), env, Path(tmp) / "stack.log")
        print(f"chaos run {run_id}: seed {seed}, {args.clients} clients x {args.operations} operations", end="")
        print(f", {args.kills} kills; stack log {stack.log}", flush=True)
        try:
            stack.start()
            create_asset(stack.url)
            context = multiprocessing.get_context("spawn")
            shared = (context.Value("i", 0), context.Value("d", 0.0))
            specs = [
                Spec(i, stack.url, seed + i, args.operations, run_id, ADMIN_HANDLE, ADMIN_PASSWORD)
                for i in range(args.clients)
            ]
            with ProcessPoolExecutor(args.clients, context, initializer=init_worker, initargs=shared) as pool:
                futures = [pool.submit(run_client, spec) for spec in specs]
                points = kill_points(rng, args.clients * args.operations, args.kills)
                kills = monkey(stack, shared, points, rng, futures)
                results = [f.result() for f in futures]
            verified, settle = checks.verify(env)
            people = {k: v for r in results for k, v in r["people"].items()}
            expected = checks.merged(r["expected"] for r in results)
            with psycopg.connect(database_url, autocommit=True) as conn:
                found = [
                    checks.acknowledged_present(conn, expected),
                    checks.ledger(conn),
                    checks.derived_writes(conn),
                    verified,
                    checks.read_side(conn, wallets(stack.url, people)),
                ]
                duplicates = checks.duplicates(conn, expected)
        except Exception:
            print((Path(tmp) / "stack.log").read_text()[-6000:] if (Path(tmp) / "stack.log").exists() else "")
            raise
        finally:
            stack.stop()
    figures = report.Figures(
        run_id,
        seed,
        args.clients,
        args.operations,
        [r["stats"] for r in results],
        kills,
        found,
        duplicates,
        settle,
        time.monotonic() - started,
    )
    text = report.markdown(figures)
    print(text)
    if args.record:
        report.record(args.record, text)
        print(f"recorded in {args.record}")
    return 0 if report.passed(figures) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--operations", type=int, default=120, help="operations per client")
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, help="repeat a run's choices (its workload; timing still varies)")
    parser.add_argument("--port", type=int, help="the stack's port (default: a free one)")
    parser.add_argument("--record", type=Path, help="also write the figures into this Markdown file's chaos section")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
