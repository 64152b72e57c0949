"""The local stack's DynamoDB: moto's server in a process of its own.

``python -m infra.local.dynamodb_server PORT`` serves moto on 127.0.0.1:PORT until its parent
process ends. As a separate process it has its own interpreter, like the real service: the
stack's projector threads and HTTP API do not wait for moto's Python under one GIL (a fan-out's
thousands of batch writes spent half the stack's time in moto when it ran in the stack's process).

The server exits when the process that started it is gone (it watches its parent), so a stack
killed outright does not leave a DynamoDB behind; ``start_dynamodb`` in ``infra.local.services``
starts it and stops it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

PARENT_POLL_S = 0.5


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)  # the parent is gone: nothing here is worth keeping


def main(port: int) -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.server import ThreadedMotoServer

    from infra.local.moto_streams import atomic_stream_appends

    atomic_stream_appends()  # its request threads write streams concurrently

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Keep-alive: werkzeug's handler speaks HTTP/1.0 unless told, so every request paid a new TCP
    # connection (a tenth of the stack's CPU during a fan-out's thousands of batch writes).
    MotoRequestHandler.protocol_version = "HTTP/1.1"
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)  # the parent waits for this line, then stops reading
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, sys.stdout.fileno())  # so nothing written later can fill the unread pipe and block
    threading.Event().wait()


if __name__ == "__main__":
    main(int(sys.argv[1]))
