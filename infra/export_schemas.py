"""``python -m infra.export_schemas``: write the exported contracts under schema/.

* schema/openapi.json: the REST API's OpenAPI 3.1 document (what GET /v1/openapi.json serves)
* schema/events/*.json: JSON Schema of the change-feed record and of each aggregate's state
* docs/api.md: the API reference for its users, rendered from the OpenAPI document

Tests compare these files with the code, so they cannot drift silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_PATH = ROOT / "schema" / "openapi.json"
EVENTS_DIR = ROOT / "schema" / "events"
API_DOCS_PATH = ROOT / "docs" / "api.md"


def render(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def exports() -> dict[Path, str]:
    from infra.api_docs import render as render_api_docs
    from infra.openapi import document
    from shared.contracts.events import json_schemas

    openapi = document()
    files = {OPENAPI_PATH: render(openapi), API_DOCS_PATH: render_api_docs(openapi)}
    files.update({EVENTS_DIR / name: render(schema) for name, schema in json_schemas().items()})
    return files


def main() -> int:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in exports().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
