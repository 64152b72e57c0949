"""``python -m bench.topic <module> <out.json>``: one benchmark module in a fresh interpreter.

``python -m bench`` runs each module this way so that one module's heap, caches and threads
(100,000-item read caches, moto state, pools) cannot skew the next one's figures. The module
gets its own fresh, migrated database (on the server named by TEST_DATABASE_URL, if set).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from bench.harness import bench_env, quiet_logs


def main(module: str, out: Path) -> int:
    with bench_env() as env, quiet_logs():
        figures = importlib.import_module(f"bench.{module}").run(env)
    for figure in figures:
        met = "" if figure.goal is None else f" goal {'met' if figure.goal.met(figure) else 'MISSED'}"
        print(f"{figure.name:<60} {figure.value:>12.3f} {figure.unit:<8} ratio={figure.ratio}{met}", flush=True)
    out.write_text(json.dumps([f.as_dict() for f in figures]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
