"""The capacity model's arithmetic on cases small enough to work by hand (docs/capacity.md)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bench.capacity.costs import FUNCTION, ActionCost, Costs, action_cost, load_costs
from bench.capacity.limits import LIMITS, Prices, max_connections, tiered
from bench.capacity.model import SMALL_GROUP, Deployment, Latencies, Workload, entities_at_limit, evaluate
from bench.capacity.report import run, table

MONTH = 730 * 3600  # seconds the bill is computed over
PBOX = "ReadCacheTable/gsi1:pbox"


def costs_of(*measured: ActionCost) -> Costs:
    """Every action free but the given ones."""
    actions = {name: ActionCost(name, function) for name, function in FUNCTION.items()}
    actions.update({a.name: a for a in measured})
    return Costs(actions, measured_groups=1, measured_at="by hand", commit="none")


def one_per_second(action: str, **overrides: object) -> Workload:
    """86,400 entities, all active, each doing ``action`` once a day: 1 per second on average."""
    quiet = {
        "daily_active_share": 1.0,
        "per_active_per_day": {action: 1.0},
        "group_broadcasts_per_group_per_day": 0.0,
        "platform_broadcasts_per_day": 0.0,
        "connected_share_at_peak": 0.0,
        "peak_to_average": 3.0,
    }
    return Workload(entities=86_400, **{**quiet, **overrides})  # type: ignore[arg-type]


def test_one_read_per_second_is_billed_as_its_read_units_the_requests_and_the_invocations() -> None:
    # Given one action a second that reads 0.5 RRU from the read cache through Francium
    get_me = ActionCost("get_me", "francium", rru={"ReadCacheTable": 0.5})
    # When the model runs
    result = evaluate(one_per_second("get_me"), costs_of(get_me))
    # Then 0.5 RRU/s on average, billed 0.5 x 2,628,000 s / 1e6 x $0.125
    assert result.rru["ReadCacheTable"] == pytest.approx(0.5)
    assert result.cost["DynamoDB reads"] == pytest.approx(0.5 * MONTH / 1e6 * 0.125)
    # And 2,628,000 REST requests at $3.50 a million
    assert result.cost["API Gateway REST requests"] == pytest.approx(MONTH / 1e6 * 3.50)
    # And 1.5 invocations a second: Francium's, and the authorizer's for every second request (its 60 s cache)
    assert {f: n for f, n in result.invocations.items() if n} == pytest.approx({"francium": 1.0, "authorizer": 0.5})
    assert result.cost["Lambda requests"] == pytest.approx(1.5 * MONTH / 1e6 * 0.20)
    # And the stage sees the peak: 3 requests a second against its 200
    assert result.check("api_stage_rps").load == pytest.approx(3.0)
    assert result.check("api_stage_rps").limit == 200


def test_a_write_is_two_invocations_and_the_element_is_billed_while_fluorine_runs() -> None:
    # Given a transfer: one synchronous Fluorine call of 10 statements and 2 change-feed puts
    transfer = ActionCost("transfer", "nickel", fluorine_calls=1, statements=10, change_feed_puts=2)
    lat = Latencies(handler_ms=5, dynamodb_ms=6, sql_ms=1.5, invoke_ms=20)
    # When it runs once a second (three at the peak)
    result = evaluate(one_per_second("transfer"), costs_of(transfer), lat)
    # Then Nickel and Fluorine are invoked once each per transfer
    assert result.invocations["nickel"] == pytest.approx(1.0)
    assert result.invocations["fluorine"] == pytest.approx(1.0)
    # And Fluorine takes 5 + 10 x 1.5 + 2 x 6 = 32 ms; Nickel 5 + (20 + 32) = 57 ms, waiting on it
    assert result.concurrency["fluorine"] == pytest.approx(3 * 0.032)
    assert result.concurrency["nickel"] == pytest.approx(3 * 0.057)
    # And each Fluorine execution holds one database connection
    assert result.check("aurora_connections").load == pytest.approx(3 * 0.032)
    assert result.statements == pytest.approx(10.0)
    assert result.transactions == pytest.approx(1.0)


def test_no_limit_is_hit_at_a_light_load_and_the_most_exceeded_limit_is_named_first() -> None:
    # Given inbox pages (1.5 RRU on the platform partition each), three a second at the peak
    inbox = ActionCost("inbox_page", "francium", partition_rru={PBOX: 1.5}, partition_requests={PBOX: 1.0})
    costs, workload = costs_of(inbox), one_per_second("inbox_page")
    # Then nothing is exceeded under the real limits
    assert evaluate(workload, costs).first is None
    # When the partition's limit is 1 RRU/s (4.5x exceeded) and the stage's 2 rps (1.5x exceeded)
    low = Deployment(limits={"partition_read": 1.0, "api_stage_rps": 2.0})
    result = evaluate(workload, costs, dep=low)
    # Then both are exceeded, and the platform partition, the further over its limit, is named first
    assert result.check("partition_read:pbox").load == pytest.approx(4.5)
    assert {c.name for c in result.checks if c.exceeded} == {"partition_read:pbox", "api_stage_rps"}
    assert result.first is not None
    assert result.first.name == "partition_read:pbox"
    assert result.first.utilisation == pytest.approx(4.5)


def test_a_per_container_cache_of_the_platform_page_bounds_its_partitions_reads() -> None:
    # Given the same inbox pages, and each Francium container keeping the platform page for 5 s
    inbox = ActionCost("inbox_page", "francium", partition_rru={PBOX: 1.5}, partition_requests={PBOX: 1.0})
    cached = evaluate(one_per_second("inbox_page"), costs_of(inbox), dep=Deployment(pbox_cache_seconds=5))
    # Then the partition is read at most once per container per 5 s (here under one container: 1.5 / 5)
    assert cached.check("partition_read:pbox").load == pytest.approx(0.3)


def test_the_stage_throttle_is_exceeded_from_the_entities_whose_peak_passes_200_rps() -> None:
    # Given one request a day per entity, all active, peak three times the average
    costs, template = costs_of(), one_per_second("get_me")
    # Then 200 rps at the peak is 200 / 3 x 86,400 = 5,760,000 entities (the search stops within 1%)
    at = entities_at_limit("api_stage_rps", costs, template)
    assert at is not None
    assert 5_760_000 <= at <= 5_760_000 * 1.01


def test_api_requests_are_priced_by_tier() -> None:
    # 400 million requests: 333 million at $3.50, the next 67 million at $2.80
    assert tiered(400e6, Prices().api_rest_per_million) == pytest.approx(333 * 3.50 + 67 * 2.80)
    assert tiered(0, Prices().api_rest_per_million) == 0


def test_aurora_connections_follow_the_maximum_capacity_up_to_5000() -> None:
    # 8 ACU = 16 GiB: 17,179,869,184 / 9,531,392 = 1,802
    assert max_connections(8) == 1_802
    assert max_connections(256) == 5_000


def test_a_measured_action_gets_full_feed_pages_and_its_index_copies() -> None:
    # Given a measured action that queried a nearly empty platform partition and projected a message
    nothing = {"dynamodb": {}, "dynamodb_partitions": {}, "lambda_invocations": {}, "sql_statements": 0}
    measured = {
        "request": {
            **nothing,
            "dynamodb": {"ReadCacheTable": {"requests": 1, "read_units": 0.5, "write_units": 0}},
            "dynamodb_partitions": {PBOX: {"requests": 1, "read_units": 0.5, "write_units": 0}},
            "lambda_invocations": {"element": 1},
        },
        "downstream": {
            **nothing,
            "dynamodb": {"ReadCacheTable": {"requests": 1, "read_units": 0, "write_units": 1}},
            "dynamodb_partitions": {"ReadCacheTable:message": {"requests": 1, "read_units": 0, "write_units": 1}},
        },
        "change_feed_records": 0,
        "trigger_records": 0,
    }
    cost = action_cost("inbox_page", measured)
    # Then a feed query costs a full page (21 items: 1.5 RRU), and the message's gsi1 copy is a second write
    assert cost.partition_rru[PBOX] == 1.5
    assert cost.rru["ReadCacheTable"] == 1.5
    assert cost.wru["ReadCacheTable"] == 2


def test_a_caller_in_more_groups_reads_more_group_partitions_per_page() -> None:
    gbox = "ReadCacheTable/gsi1:gbox"
    page = ActionCost(
        "inbox_page", "francium", rru={"ReadCacheTable": 6.0}, partition_rru={gbox: 4.5}, partition_requests={gbox: 3}
    )
    doubled = page.with_groups(groups=6, measured=3)
    assert doubled.partition_rru[gbox] == pytest.approx(9.0)
    assert doubled.partition_requests[gbox] == pytest.approx(6)
    assert doubled.rru["ReadCacheTable"] == pytest.approx(10.5)


def test_the_model_runs_over_the_committed_costs_at_the_three_sizes() -> None:
    costs = load_costs()
    results = run(costs)
    assert [r.workload.entities for r in results] == [10_000, 1_000_000, 10_000_000]
    for r in results:
        assert all(math.isfinite(c.load) and c.limit > 0 for c in r.checks)
        assert r.monthly > 0
    # The bill and the load grow with the entities; nothing is exceeded at 10k
    assert results[0].monthly < results[1].monthly < results[2].monthly
    assert results[0].first is None
    assert "First limit hit" in table(results, costs)
    # A what-if is a Deployment: the fixes docs/capacity.md recommends lower the 10M bill
    fixed = replace(Deployment(), group_audience_by_members=True, pbox_cache_seconds=5)
    assert evaluate(Workload(10_000_000), costs, dep=fixed).monthly < results[2].monthly


def test_every_limit_names_its_source() -> None:
    for limit in LIMITS.values():
        assert limit.source.startswith("https://docs.aws.amazon.com/"), limit.key
        assert limit.kind in ("hard", "quota", "configured")


def test_python_m_bench_capacity_prints_the_table_and_leaves_the_benchmark_results_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the benchmarks' results file as it is
    from bench.__main__ import RESULTS, main

    before = RESULTS.read_bytes() if RESULTS.exists() else None
    # When `python -m bench capacity` runs
    monkeypatch.setattr("sys.argv", ["python -m bench", "capacity"])
    assert main() == 0
    # Then it prints the three sizes' table and first limits, and results.json is untouched
    out = capsys.readouterr().out
    assert "First limit hit" in out
    assert all(size in out for size in ("10k", "1M", "10M"))
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before


def test_a_platform_broadcast_is_pushed_to_every_open_connection() -> None:
    # Given 86,400 entities, all active, 10% of them connected at the peak (3x the average): 2,880
    # connections on average, and one platform broadcast a second
    broadcasts = one_per_second("get_me", platform_broadcasts_per_day=86_400.0, connected_share_at_peak=0.1)
    result = evaluate(broadcasts, costs_of())
    # Then 2,880 pushes a second are billed as WebSocket messages, with the connection minutes
    messages = 2_880 * MONTH / 1e6 * 1.00
    minutes = 2_880 * 60 * 730 / 1e6 * 0.25
    assert result.cost["API Gateway WebSocket (messages, connection minutes)"] == pytest.approx(messages + minutes)


def test_a_group_broadcasts_copies_scale_with_the_groups_fanned_members() -> None:
    # Given a broadcast measured to a group of 50: 3 WRU for the message, 150 for its 50 copies
    measured = ActionCost(
        "group_broadcast", "carbon", projector_writes=3, wru={"ReadCacheTable": 153.0}, copy_wru=150.0, copy_writes=2
    )
    # When it goes to a group of 10 instead
    small = measured.with_audience(members=10, measured=50)
    # Then only the copies shrink, to a fifth, and so do their batch writes
    assert small.wru["ReadCacheTable"] == pytest.approx(3 + 30)
    assert small.copy_wru == pytest.approx(30)
    assert small.projector_writes == pytest.approx(1 + 0.4)
    # And an action without copies is unchanged
    page = ActionCost("inbox_page", "francium", rru={"ReadCacheTable": 6.0})
    assert page.with_audience(members=10, measured=50) == page


def test_copies_are_billed_for_the_mixs_average_group() -> None:
    # Given one group broadcast a day per group, to groups of 8, whose copies were measured for 50
    measured = ActionCost("group_broadcast", "carbon", wru={"ReadCacheTable": 150.0}, copy_wru=150.0)
    costs = replace(costs_of(measured), measured_group_size=50)
    w = one_per_second("get_me", group_sizes=((8, 1.0),), group_broadcasts_per_group_per_day=1.0)
    # When the model runs
    result = evaluate(w, costs)
    # Then the read cache is written 3 WRU per member of each broadcast: groups x 8 x 3 a day
    assert result.wru["ReadCacheTable"] == pytest.approx(w.groups * 8 * 3 / 86_400)


def test_a_fan_outs_unread_counts_scale_with_its_copies() -> None:
    # Given a measured fan-out to 50 members: 51 copy-family writes (a marker) and 50 counts
    partitions = {
        "ReadCacheTable:fanout": {"read_units": 0.0, "requests": 3.0, "write_units": 51.0},
        "ReadCacheTable:unread": {"read_units": 0.0, "requests": 2.0, "write_units": 50.0},
    }
    side = {"dynamodb": {}, "dynamodb_partitions": {}, "sql_statements": 0, "lambda_invocations": {}}
    measured = {
        "request": side,
        "downstream": {**side, "dynamodb_partitions": partitions},
        "change_feed_records": 0,
        "trigger_records": 0,
    }
    # When its cost is read
    cost = action_cost("group_broadcast", measured)
    # Then the counts scale with the audience as the copies (and their index copies) do
    assert cost.copy_wru == 51 * 3 + 50
    assert cost.with_audience(100, 50).copy_wru == 2 * (51 * 3 + 50)


def test_small_groups_broadcasts_query_their_readers_and_large_groups_scan_as_the_trigger_does() -> None:
    # Given the trigger's threshold, mirrored by the model
    from rhenium.live import SMALL_GROUP as CODE_SMALL_GROUP

    assert SMALL_GROUP == CODE_SMALL_GROUP == 500
    # And 86,400 entities in one group each: a quarter of them in groups of 200, the rest in groups
    # of 600, so 108 groups of each size; 400 broadcasts a day per group, 1 a second in all; no
    # one connected, so a Scan is one page (0.5 RRU, 6 ms)
    sizes = ((200, 0.25), (600, 0.75))
    w = one_per_second(
        "get_me", memberships_per_entity=1.0, group_sizes=sizes, group_broadcasts_per_group_per_day=400.0
    )
    assert w.small_groups == pytest.approx((0.5, 200))
    # When the model runs
    result = evaluate(w, costs_of(), Latencies(dynamodb_ms=6, push_threads=16))
    # Then half the broadcasts query 200 readers' connections (1 RRU each) and half scan: 100.25 RRU/s
    assert result.rru["RealtimeTable"] == pytest.approx(0.5 * 200 * 1.0 + 0.5 * 0.5)
    # And at the peak (3 a second) the trigger spends 0.5 x 200 x 6 / 16 + 0.5 x 6 = 40.5 ms on each
    assert result.concurrency["rhenium_trigger"] == pytest.approx(3 * 0.0405)
    # And the what-if "every group by members" queries every reader of the 400-member average group
    every = evaluate(w, costs_of(), dep=Deployment(group_audience_by_members=True))
    assert every.rru["RealtimeTable"] == pytest.approx(400.0)
    # And under the documented mix 99.8% of group broadcasts go to groups of at most 500
    assert Workload(1).small_groups[0] == pytest.approx((0.5 / 8 + 0.3 / 100) / (0.5 / 8 + 0.3 / 100 + 0.2 / 2_000))
