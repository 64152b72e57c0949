"""``python -m bench``: run every bench/bench_*.py and write bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from bench.harness import bench_env

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="topics to run (e.g. oxygen nickel); all by default")
    args = parser.parse_args()
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m.removeprefix("bench_") in args.only]
    figures = []
    with bench_env() as env:
        for name in modules:
            started = time.perf_counter()
            module = importlib.import_module(f"bench.{name}")
            produced = module.run(env)
            for figure in produced:
                print(f"{figure.name:<60} {figure.value:>12.3f} {figure.unit:<8} ratio={figure.ratio}")
            figures += produced
            print(f"-- {name} took {time.perf_counter() - started:.1f}s", flush=True)
    results = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
        },
        "figures": [f.as_dict() for f in figures],
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {HERE / 'results.json'} ({len(figures)} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
