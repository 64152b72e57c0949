"""``python -m infra.layer DIR``: trim the built shared layer to what the functions load, then report
its unzipped size (``make build`` runs it on .aws-sam/build/SharedLayer after ``sam build``).

The layer pins boto3 so that the SDK deployed is the SDK tested, but botocore ships the models of
every AWS service (about 450, ~19 MB of the layer's ~67 MB) and the functions call six. Trimming
keeps the models of ``SERVICES`` and botocore's shared data files; a client for any other service
would fail with ``UnknownServiceError``, so ``tests/unit/test_layer.py`` checks that every client
the code creates is of a kept service. The budget is 50 MB unzipped (issue 15): what a cold start
reads from the layer stays what the functions need.

The standard library only: ``make build`` runs it with the system's Python.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

BUDGET_MB = 50.0
# The services the functions create clients for (shared/aws.py, shared/internal.py), those
# Powertools' parameters read keys and secrets from, and STS for credential providers that assume roles.
SERVICES = frozenset({"dynamodb", "lambda", "apigatewaymanagementapi", "ssm", "secretsmanager", "sts"})


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def trim_botocore(site: Path) -> float:
    """Remove the models of services no function calls; the MB removed."""
    data = site / "botocore" / "data"
    if not data.is_dir():
        return 0.0
    unused = [d for d in data.iterdir() if d.is_dir() and d.name not in SERVICES]
    removed = sum(size_mb(d) for d in unused)
    for directory in unused:
        shutil.rmtree(directory)
    return removed


def report(layer: Path, site: Path, trimmed: float) -> str:
    total = size_mb(layer)
    largest = sorted(((p.name, size_mb(p)) for p in site.iterdir()), key=lambda s: -s[1])[:5]
    biggest = ", ".join(f"{name} {mb:.1f}" for name, mb in largest)
    verdict = "within" if total <= BUDGET_MB else "OVER"
    return (
        f"shared layer: {total:.1f} MB unzipped, {verdict} the {BUDGET_MB:.0f} MB budget"
        f" ({trimmed:.1f} MB of unused botocore models trimmed; largest, MB: {biggest})"
    )


def main(argv: list[str]) -> int:
    layer = Path(argv[0] if argv else ".aws-sam/build/SharedLayer")
    site = layer / "python" if (layer / "python").is_dir() else layer
    if not site.is_dir():
        print(f"no built layer at {layer} (sam build first)")
        return 1
    print(report(layer, site, trim_botocore(site)))
    return 0  # over budget is reported, not fatal: the build itself is good


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
