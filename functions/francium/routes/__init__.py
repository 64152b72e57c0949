"""Francium's REST read routes, one Powertools ``Router`` per element (module attribute ``router``)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def routers() -> list[Any]:
    """Every module's ``router``, in module-name order."""
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        router = getattr(importlib.import_module(f"{__name__}.{module.name}"), "router", None)
        if router is not None:
            found.append(router)
    return found
