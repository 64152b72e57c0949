"""The committed OpenAPI document and event schemas are exactly what the code exports."""

from __future__ import annotations

from openapi_spec_validator import validate

from infra.export_schemas import exports
from infra.openapi import document
from shared.contracts.events import STATE_BY_AGGREGATE


def test_committed_exports_match_the_code() -> None:
    for path, text in exports().items():
        assert path.exists(), f"{path} is missing: run `make schemas`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make schemas`"


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    validate(document())


def test_every_projected_aggregate_type_has_an_event_schema() -> None:
    from francium.projector import PROJECTIONS
    from francium.views import load_all

    load_all()
    assert set(PROJECTIONS) <= set(STATE_BY_AGGREGATE)
