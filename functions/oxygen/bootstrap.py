"""``python -m oxygen.bootstrap --handle <handle>``: create (or promote) the first platform admin.

For a deployed stage, where nobody is admin yet and ``PUT /v1/entities/{id}/roles`` needs one.
It hashes the password here and sends ``EnsurePlatformAdmin`` to the deployed Fluorine function
(a Lambda ``Invoke``: needs AWS credentials allowed to invoke it, and ``FLUORINE_FUNCTION``). The
password comes from ``ADMIN_PASSWORD`` or an interactive prompt, never from the command line.
Running it again is harmless: an existing admin is left as it is.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from pydantic import TypeAdapter, ValidationError

from oxygen.logic import ensure_admin
from shared.validation import Handle, Password


def read_password(prompt: Callable[[str], str] = getpass.getpass) -> str:
    return os.environ.get("ADMIN_PASSWORD") or prompt("Password for the admin (12..128 characters): ")


def main(argv: list[str] | None = None, prompt: Callable[[str], str] = getpass.getpass) -> int:
    parser = argparse.ArgumentParser(prog="python -m oxygen.bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--handle", required=True, help="the admin's handle (^[a-z0-9_]{3,32}$)")
    args = parser.parse_args(argv)
    try:
        handle = TypeAdapter(Handle).validate_python(args.handle)
        password = TypeAdapter(Password).validate_python(read_password(prompt))
    except ValidationError as exc:
        print(f"refused: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    admin = ensure_admin(handle, password)
    print(f"platform admin ready: {admin.handle} ({admin.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
