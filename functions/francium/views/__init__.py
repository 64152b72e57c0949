"""Read shapes, one module per element: projections into the cache and the queries that read them."""

from __future__ import annotations

import importlib

MODULES = ("francium.views.entities",)


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)
