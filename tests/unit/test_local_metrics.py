"""The local stack's metric collector: EMF lines out of the console and into /local/metrics."""

from __future__ import annotations

import io
import json
import threading

import pytest

from infra.local.metrics import Collector, EmfTee, dashboard
from shared import observability


def test_emf_lines_printed_by_the_functions_are_collected_and_other_lines_pass_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = io.StringIO()
    collector = Collector()
    monkeypatch.setattr("sys.stdout", EmfTee(console, collector))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    print("GET /v1/entities/me 200 3.1ms")
    observability.count("Requests")
    observability.count("ErrorAnswers", code="not_found")
    observability.count("ValueMoved", 250, asset="EUR")
    observability.observe("ProjectionLag", [10.0, 20.0, 30.0, 40.0], observability.MetricUnit.Milliseconds)
    print('{"level": "INFO", "message": "a JSON log line"}')
    summary = collector.summary()
    assert console.getvalue() == 'GET /v1/entities/me 200 3.1ms\n{"level": "INFO", "message": "a JSON log line"}\n'
    assert summary["emf_lines"] == 4
    assert summary["totals"] == {"ErrorAnswers": 1.0, "ProjectionLag": 100.0, "Requests": 1.0, "ValueMoved": 250.0}
    assert summary["by"]["errors_by_code"] == {"not_found": 1.0}
    assert summary["by"]["value_moved_by_asset"] == {"EUR": 250.0}
    assert summary["read_side_lag_ms"] == {"samples": 4, "p50": 30.0, "p99": 40.0, "max": 40.0}
    json.dumps(summary)  # served as JSON as it is


def test_lines_printed_from_several_threads_at_once_are_each_read_whole() -> None:
    console = io.StringIO()
    collector = Collector()
    tee = EmfTee(console, collector)
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Elements",
                        "Dimensions": [["element"]],
                        "Metrics": [{"Name": "Requests", "Unit": "Count"}],
                    }
                ],
            },
            "element": "oxygen",
            "Requests": [1.0],
        }
    )

    def emit() -> None:
        for _ in range(200):
            tee.write(line)  # what print does: the text, then the newline, in two writes
            tee.write("\n")

    threads = [threading.Thread(target=emit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert collector.summary()["by"]["requests_by_element"] == {"oxygen": 800.0}
    assert console.getvalue() == ""


def test_the_dashboard_is_a_page_of_its_own_without_scripts() -> None:
    collector = Collector()
    collector.take(
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Elements","Dimensions":[["element","event"]],'
        '"Metrics":[{"Name":"Events","Unit":"Count"}]}]},"element":"fluorine","event":"<TransferPosted>","Events":[3.0]}'
    )
    page = dashboard(collector.summary())
    assert "&lt;TransferPosted&gt;" in page
    assert "<TransferPosted>" not in page
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
