"""template.yaml and the code agree: every route is served, every served route is deployed."""

from __future__ import annotations

import re
from pathlib import Path

from infra.local.template import load
from infra.openapi import ELEMENT_APPS, PUBLIC_ROUTES, document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load(ROOT / "template.yaml")


def normalized(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def template_routes() -> set[tuple[str, str]]:
    return {(r.method.lower(), normalized(r.path)) for r in TEMPLATE.routes}


def code_routes() -> set[tuple[str, str]]:
    return {(m, normalized(p)) for p, item in document()["paths"].items() for m in item}


def test_every_route_in_the_template_is_served_by_the_code_and_vice_versa() -> None:
    assert template_routes() == code_routes()


def test_each_route_is_deployed_on_the_function_whose_app_serves_it() -> None:
    handlers = {name: fn.handler.split(".")[0] for name, fn in TEMPLATE.functions.items()}
    served: dict[tuple[str, str], str] = {}
    import importlib

    for ref in ELEMENT_APPS:
        module, _, attribute = ref.partition(":")
        schema = getattr(importlib.import_module(module), attribute).get_openapi_schema(title="t", version="1")
        for path, item in schema.model_dump(by_alias=True, exclude_none=True)["paths"].items():
            for method in item:
                served[(method, normalized(path))] = module.split(".")[0]
    for route in TEMPLATE.routes:
        key = (route.method.lower(), normalized(route.path))
        assert handlers[route.function] == served[key], f"{key} is deployed on {route.function}"


def test_public_routes_are_exactly_the_template_routes_without_authorizer() -> None:
    public_in_template = {(r.method.lower(), normalized(r.path)) for r in TEMPLATE.routes if r.public}
    assert public_in_template == {(m, normalized(p)) for m, p in PUBLIC_ROUTES if (m, normalized(p)) in code_routes()}
    assert public_in_template <= {(m, normalized(p)) for m, p in PUBLIC_ROUTES}


def test_the_openapi_document_marks_security_per_route_and_lists_problem_responses() -> None:
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            public = (method, path) in PUBLIC_ROUTES
            assert operation["security"] == ([] if public else [{"bearerAuth": []}]), (method, path)
            assert "422" not in operation["responses"] or operation["responses"]["422"]["$ref"].endswith("422")
            assert "500" in operation["responses"]
