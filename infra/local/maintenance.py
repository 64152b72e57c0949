"""``make verify`` / ``make rebuild``: Francium's maintenance against the local stack's stores.

Run it with the environment of ``make run`` and nothing more: DATABASE_URL and DYNAMODB_ENDPOINT
when ``make run`` had them, else the stores the running stack recorded in its state dir
(LOCAL_STATE_DIR, default .local/; ``infra.local.stores``). It runs the same code as the deployed
FranciumMaintenanceFunction (``francium.maintenance``) with the environment the stack's functions
have, prints its JSON report and a one-line summary, and exits 1 when ``verify`` finds drift (or a
``rebuild`` could not re-derive something), 2 when there is no stack to maintain.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "layers" / "shared", ROOT / "functions", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from infra.local import services, stores  # noqa: E402
from infra.local.runtime import Runtime, apply_environment, local_environment  # noqa: E402
from infra.local.template import load  # noqa: E402


def summary(action: str, report: dict[str, Any]) -> str:
    checked = f"{report['aggregates_checked']} aggregates and {report['derived_events_checked']} transfers checked"
    if action == "verify":
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report["by_kind"].items()))
        return f"verify: {report['count']} drift ({kinds or 'none'}; {checked})"
    return (
        f"rebuild: {report['rewritten']} read-cache items rewritten, {report['rederived']} system messages"
        f" re-derived, {len(report['rederive_failed'])} failed ({report['count']} drift found; {checked})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.maintenance", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["verify", "rebuild"])
    parser.add_argument("--aggregate", help="only this aggregate key, e.g. entity#<uuid>")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local")))
    args = parser.parse_args(argv)

    found = stores.locate(args.state_dir, os.environ)
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 2
    services.use_local_credentials()
    template = load(ROOT / "template.yaml")
    apply_environment(local_environment(template, found.dynamodb_endpoint, found.database_url, args.state_dir))
    if args.action == "rebuild":  # after a total loss of the DynamoDB side, its tables first (empty)
        services.create_tables(found.dynamodb_endpoint, template)
    from francium import maintenance
    from shared import internal

    internal.use_local_transport(Runtime(template).invoke_concurrently)  # its calls to Fluorine, in this process

    result = maintenance.ACTIONS[args.action](args.aggregate)
    print(json.dumps(result, indent=2))
    print(summary(args.action, result), file=sys.stderr)
    return maintenance.exit_status(args.action, result)


if __name__ == "__main__":
    sys.exit(main())
