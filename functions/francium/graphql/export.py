"""Writes the GraphQL SDL to schema/graphql/schema.graphql: ``python -m francium.graphql.export``.

A unit test compares the file with ``sdl()``, so the committed SDL cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

SDL_PATH = Path(__file__).resolve().parents[3] / "schema" / "graphql" / "schema.graphql"


def sdl() -> str:
    from francium.graphql.schema import schema

    return schema.as_str().rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else SDL_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sdl(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
