"""`python -m bench refresh_rotation [--refreshes 1000] [--containers 8] [--crash-rate 0.02]`: Okta
refresh-token rotation across concurrent containers over time-scaled days (testbed/refresh_rotation.py),
with the library's token cache and lease in moto DynamoDB and the refresh token in moto Secrets
Manager, against the sandbox Okta's rotation, grace period and reuse detection. `make
refresh-rotation` runs the full 1,000; `make test` runs 8 of them (the same mechanism)."""

import argparse
import os
import sys


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench refresh_rotation")
    parser.add_argument("--refreshes", type=int, default=1000)
    parser.add_argument("--containers", type=int, default=8)
    parser.add_argument("--crash-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    fake_aws = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    for name, value in fake_aws.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    import boto3
    from moto import mock_aws

    from okta_auth0_sync_sandbox import runner
    from okta_auth0_sync_sandbox.clock import FakeClock
    from okta_auth0_sync_testbed import fidelity, refresh_rotation

    clock = FakeClock()
    sb = runner.start(clock=clock)
    try:
        with (
            fidelity.cheaper_fakes(),
            mock_aws(),
            fidelity.atomic_dynamodb_items(),
        ):
            dynamodb = boto3.client("dynamodb")
            dynamodb.create_table(
                TableName=refresh_rotation.TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
            figures = refresh_rotation.run(
                sb,
                (dynamodb, boto3.client("secretsmanager")),
                clock,
                refreshes=args.refreshes,
                containers=args.containers,
                seed=args.seed,
                crash_rate=args.crash_rate,
            )
    finally:
        sb.stop()
    print(refresh_rotation.report(figures))
    for error in figures.errors[:5]:
        print("  error:", error)
    ok = (
        figures.invalid_grant == 0
        and not figures.errors
        and figures.valid_refresh_tokens_at_end == 1
        and figures.secret_holds_the_valid_one
        and figures.refreshes >= args.refreshes
    )
    print("  result:", "PASS" if ok else "FAIL")
    if not ok:
        sys.exit(1)
