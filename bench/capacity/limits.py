"""The limits the deployed design runs into and the prices it pays, each with its source.

Three kinds of limit: ``hard`` (AWS cannot raise it: a partition's throughput, a stream shard's
readers, Lambda's 900 s), ``quota`` (an AWS default raised on request: regional concurrency, the
account's API throttle) and ``configured`` (a value in template.yaml or database.yaml: raised by a
deploy). Figures checked against the AWS documentation on the date below; prices are on-demand,
us-east-1, from each service's pricing page on the same date (see docs/capacity.md, Sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CHECKED = "2026-12-02"

Kind = Literal["hard", "quota", "configured"]


@dataclass(frozen=True)
class Limit:
    key: str
    component: str
    what: str
    value: float
    unit: str
    kind: Kind
    source: str


_DDB = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide"
_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg"
_AURORA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide"

LIMITS: dict[str, Limit] = {
    limit.key: limit
    for limit in (
        Limit(
            "api_account_rps",
            "API Gateway (account)",
            "requests per second across REST, WebSocket and @connections callbacks",
            10_000,
            "rps",
            "quota",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
        ),
        Limit(
            "api_stage_rps",
            "API Gateway (stage)",
            "the stage's throttle, template.yaml ApiRateLimit (burst 400)",
            200,
            "rps",
            "configured",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html",
        ),
        Limit(
            "api_login_rps",
            "API Gateway (POST /v1/auth/token)",
            "the login route's throttle in template.yaml (burst 40)",
            20,
            "rps",
            "configured",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html",
        ),
        Limit(
            "lambda_concurrency",
            "Lambda (region)",
            "concurrent executions of all functions in the region",
            1_000,
            "concurrent",
            "quota",
            f"{_LAMBDA}/gettingstarted-limits.html",
        ),
        Limit(
            "partition_read",
            "DynamoDB partition",
            "read units per second on one partition key (a table's or an index's)",
            3_000,
            "RRU/s",
            "hard",
            f"{_DDB}/warm-throughput-scenarios.html",
        ),
        Limit(
            "partition_write",
            "DynamoDB partition",
            "write units per second on one partition key",
            1_000,
            "WRU/s",
            "hard",
            f"{_DDB}/warm-throughput-scenarios.html",
        ),
        Limit(
            "stream_readers",
            "DynamoDB Streams shard",
            "simultaneous readers of one shard (more are throttled)",
            2,
            "readers",
            "hard",
            f"{_DDB}/Streams.html",
        ),
        Limit(
            "trigger_timeout",
            "Rhenium trigger (live delivery)",
            "time to push one platform broadcast to every open connection, within the trigger's Timeout",
            90,
            "s",
            "configured",
            f"{_LAMBDA}/configuration-timeout.html",
        ),
        Limit(
            "trigger_shard_rate",
            "Rhenium trigger (per shard)",
            "records per second a shard's batches take (ParallelizationFactor 4; TransferPosted calls Fluorine)",
            0,  # computed from the latencies in model.limit_loads
            "records/s",
            "configured",
            f"{_LAMBDA}/with-ddb.html",
        ),
        Limit(
            "aurora_acu",
            "Aurora Serverless v2 writer",
            "capacity, database.yaml MaxCapacity (AWS's ceiling is 256 ACU per instance)",
            8,
            "ACU",
            "configured",
            f"{_AURORA}/aurora-serverless-v2.setting-capacity.html",
        ),
        Limit(
            "aurora_connections",
            "Aurora via RDS Proxy",
            "database connections: 90% (MaxConnectionsPercent) of max_connections at MaxCapacity",
            0,  # computed from MaxCapacity by max_connections()
            "connections",
            "configured",
            "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-connections.html",
        ),
    )
}

LAMBDA_MAX_TIMEOUT_S = 900  # a function's Timeout: at most 15 minutes (gettingstarted-limits.html)
LAMBDA_SCALING_PER_10S = 1_000  # new environments per function every 10 s (scaling-behavior.html)
AURORA_MAX_ACU = 256
PROXY_MAX_CONNECTIONS_PERCENT = 0.90
MAX_CONNECTIONS_CAP = 5_000
BYTES_PER_CONNECTION = 9_531_392  # Aurora PostgreSQL: max_connections = LEAST(memory / 9531392, 5000)
GIB_PER_ACU = 2


def max_connections(max_acu: float) -> int:
    """Aurora PostgreSQL's default max_connections for an instance of ``max_acu`` ACUs' memory
    (Serverless v2 sets it from the capacity range's maximum; AuroraPostgreSQL.Managing.html)."""
    return min(int(max_acu * GIB_PER_ACU * 2**30 / BYTES_PER_CONNECTION), MAX_CONNECTIONS_CAP)


@dataclass(frozen=True)
class Prices:
    """On-demand, us-east-1, in USD, checked on ``CHECKED``; each line's page is in PRICE_SOURCES."""

    api_rest_per_million: tuple[tuple[float, float], ...] = ((333e6, 3.50), (667e6, 2.80), (19e9, 2.38), (1e30, 1.51))
    websocket_message_per_million: float = 1.00
    websocket_connection_minute_per_million: float = 0.25
    lambda_request_per_million: float = 0.20
    lambda_arm_gb_second: float = 0.0000133334
    dynamodb_rru_per_million: float = 0.125
    dynamodb_wru_per_million: float = 0.625
    aurora_acu_hour: float = 0.12
    aurora_io_per_million: float = 0.20
    proxy_acu_hour: float = 0.015
    proxy_min_acu: float = 8
    sqs_per_million: float = 0.40
    interface_endpoint_hour: float = 0.01  # Secrets Manager's endpoint, per AZ (two)


PRICE_SOURCES = {
    "API Gateway (REST requests, WebSocket messages and connection minutes)": "https://aws.amazon.com/api-gateway/pricing/",
    "Lambda (requests, Arm GB-seconds)": "https://aws.amazon.com/lambda/pricing/",
    "DynamoDB on-demand (read and write request units; Streams reads by Lambda are free)": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "Aurora Serverless v2 (ACU-hours, I/O requests, Aurora Standard)": "https://aws.amazon.com/rds/aurora/pricing/",
    "RDS Proxy (per ACU-hour of the Serverless v2 target, minimum 8 ACUs)": "https://aws.amazon.com/rds/proxy/pricing/",
    "SQS (standard queue requests)": "https://aws.amazon.com/sqs/pricing/",
    "VPC interface endpoint (Secrets Manager, two AZs)": "https://aws.amazon.com/privatelink/pricing/",
}

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


def tiered(amount: float, tiers: tuple[tuple[float, float], ...], per: float = 1e6) -> float:
    """The price of ``amount`` units under (tier size, price per ``per`` units) tiers, in order."""
    total, left = 0.0, amount
    for size, price in tiers:
        used = min(left, size)
        total += used / per * price
        left -= used
        if left <= 0:
            break
    return total
