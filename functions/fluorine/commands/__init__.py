"""Command handlers, one module per element; importing a module registers its handlers."""

from __future__ import annotations

import importlib

MODULES = ("fluorine.commands.oxygen",)


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)
