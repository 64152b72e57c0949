"""The shared layer holds what the functions load, and `make build`'s trimming keeps all of it."""

from __future__ import annotations

import re
from pathlib import Path

from infra.layer import SERVICES, trim_botocore

ROOT = Path(__file__).resolve().parents[2]
CLIENT = re.compile(r"""(?:boto3\.client|_client)\(\s*["']([a-z0-9-]+)["']""")
DEV_ONLY = {"fastapi", "uvicorn", "mangum", "moto", "aws-xray-sdk", "pytest", "httpx", "pgserver"}


def test_every_client_the_code_creates_is_of_a_service_whose_model_the_layer_keeps() -> None:
    # Given every boto3 client the shared layer and the functions create
    sources = [*(ROOT / "layers" / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    services = {name for path in sources for name in CLIENT.findall(path.read_text())}

    # Then each one's model survives the trimming (Powertools' parameters read SSM and Secrets Manager)
    assert services, "the pattern found no client: it no longer matches how clients are created"
    assert services | {"ssm", "secretsmanager"} <= SERVICES


def test_trimming_keeps_the_kept_services_and_botocores_shared_files_and_removes_the_rest(tmp_path: Path) -> None:
    # Given a built layer's botocore data: shared files, a kept service and an unused one
    data = tmp_path / "python" / "botocore" / "data"
    for path in ("endpoints.json", "dynamodb/2012-08-10/service-2.json.gz", "ec2/2016-11-15/service-2.json.gz"):
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_bytes(b"x" * 1000)

    # When it is trimmed
    removed = trim_botocore(tmp_path / "python")

    # Then only the unused service went
    assert sorted(p.name for p in data.iterdir()) == ["dynamodb", "endpoints.json"]
    assert removed == 0.001


def test_the_layer_requires_no_development_tool() -> None:
    lines = (ROOT / "layers" / "shared" / "requirements.txt").read_text().splitlines()
    names = {re.split(r"[\[=<>~ ]", line, maxsplit=1)[0].lower() for line in lines if line and not line.startswith("#")}
    assert names.isdisjoint(DEV_ONLY)
