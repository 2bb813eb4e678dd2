"""``make demo``: ssm-warden's ledger on embedded defaults, no AWS account.

Starts the moto server (with the SSM-session extension), creates the tables and queues as
template.yaml defines them, replays every sample event in ``events/`` through the real
session_events handler, drains the action queue through the real executor, and prints the ledger.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from ssm_warden_local.server import LocalAws, fake_credentials

    fake_credentials()
    aws = LocalAws().start()
    os.environ["SSM_WARDEN_ENDPOINT_URL"] = aws.endpoint_url
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

    from functions.action_executor import app as executor
    from functions.session_events import app as session_events
    from ssm_warden.clients import aws_client
    from ssm_warden.config import reset_settings
    from ssm_warden.ledger.keys import all_active_shards
    from ssm_warden.ledger.repository import SessionRepository, record_from_item
    from ssm_warden_local.lambda_runtime import LambdaContext, drain_queue
    from ssm_warden_local.resources import create_stack_resources

    stack = create_stack_resources(aws_client)
    os.environ.update(stack.environment())
    reset_settings()
    print(f"moto server on {aws.endpoint_url}; tables {', '.join(stack.tables.values())}\n")

    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        result = session_events.lambda_handler(event, LambdaContext(function_name="session-events"))
        print(f"  {path.name:<42} -> {result['status']:<18} {result.get('session_id') or ''}")
    report = drain_queue(aws_client("sqs"), stack.queues["ActionQueue"], executor.lambda_handler)
    print(f"\nactions carried out: {report.delivered}\n")

    items = aws_client("dynamodb").scan(TableName=stack.tables["SessionsTable"])["Items"]
    print(f"{'session':<28} {'state':<11} {'principal':<52} {'target':<20} document")
    for item in sorted(items, key=lambda i: i["pk"]["S"]):
        if item.get("record_type", {}).get("S") == "denied_attempt":
            print(f"{'(denied attempt)':<28} {'-':<11} {item['principal']['M']['arn']['S']:<52} "
                  f"{item.get('target_id', {}).get('S', '-'):<20} {item['error_code']['S']}")
            continue
        record = record_from_item(item)
        principal = record.principal.arn if record.principal and record.principal.arn else "-"
        print(f"{record.session_id:<28} {record.state or '-':<11} {principal:<52} "
              f"{record.target_id or '-':<20} {record.document_name or '-'}")
    active = list(SessionRepository().iter_active(all_active_shards()))
    print(f"\nactive sessions: {len(active)}")
    aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
