"""The README's walkthrough, pasted as it is into bash against the running local stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- walkthrough:"


def walkthrough() -> str:
    """The shell block that follows the walkthrough marker in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    found = re.search(r"```sh\n(.*?)```", after, re.S)
    assert found is not None, "README.md has no shell block after the walkthrough marker"
    return found.group(1)


def test_the_readme_walkthrough_runs_as_written_and_does_what_it_says(stack_url: str) -> None:
    # Given the README's walkthrough and a stack whose admin is the one the walkthrough logs in as
    env = {
        **os.environ,
        "PORT": str(urlparse(stack_url).port),
        "ADMIN_HANDLE": "root_admin",
        "ADMIN_PASSWORD": "root-admin-password",
        "VENV": str(Path(sys.executable).parents[1]),  # the walkthrough's .venv, which runs from a scratch dir here
    }
    # When it runs in bash, stopping at the first failing command
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(  # noqa: S603 - our own README
            ["/bin/bash", "-euo", "pipefail", "-c", walkthrough()],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        left_behind = os.listdir(scratch)
    # Then every step worked: Ada's wallet shows 75.00 after paying Bob, her inbox has Bob's message,
    # his next one arrives live, GraphQL answers; no error came back and nothing was left in the working directory
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    balance = '"balances":[{"asset":"EUR","amount":7500,"held":0,"available":7500,"scale":2}]'
    assert balance in out.replace(" ", ""), out
    assert "Thanks for lunch!" in out, out
    assert 'live: {"type":"message","message":{' in out, out
    assert '"body":"Are you there?"' in out, out
    assert '"me":{"handle":"ada"}' in out.replace(" ", ""), out
    assert "https://errors.elements.dev/" not in out, out  # no problem document came back
    assert left_behind == []
