"""The AWS APIs each caller inside the VPC reaches, and why: the one list the VPC is held to.

The data tier's VPC has no NAT gateway and no internet gateway, so from inside it an AWS API answers
only through a VPC endpoint that the caller's security group may reach (and that admits the caller).
When code in the VPC starts calling another service, add it here: tests/unit/test_deploy_network.py
then fails until infra/cloudformation/database.yaml gives it an endpoint and a security-group path.
The same test fails when a VPC function's IAM policy grants a service that is not listed here.

Not listed, because they do not leave through the function's network interface: CloudWatch Logs
(including the metrics Powertools writes into them) and X-Ray segments, which Lambda's own agent
ships; and PostgreSQL, which the test checks separately (function → RDS Proxy → Aurora on 5432).
"""

from __future__ import annotations

_FLUORINE = {
    "secretsmanager": "GetSecretValue: the database credentials (fluorine.db, Powertools parameters)",
    "dynamodb": "PutItem: publishing outbox rows to the change feed (fluorine.publisher)",
}

# caller (a function's logical id, or "<nested stack>/<resource>") → AWS service → what it calls and why
VPC_CALLS: dict[str, dict[str, str]] = {
    "FluorineFunction": _FLUORINE,
    "FluorineSweeperFunction": _FLUORINE,
    "FluorineMigrateFunction": {
        "secretsmanager": "GetSecretValue: the database credentials (fluorine.db)",
        "s3": "PUT of the custom resource's answer to CloudFormation's pre-signed S3 URL (fluorine.migrations)",
    },
    "Database/DatabaseProxy": {
        "secretsmanager": "GetSecretValue: RDS Proxy reads the credentials it logs in to Aurora with",
    },
}
