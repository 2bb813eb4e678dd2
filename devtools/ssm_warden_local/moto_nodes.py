"""Two read APIs ``ssm-warden preflight`` needs and moto lacks: SSM DescribeInstanceInformation (the
managed nodes and their agent versions) and Lambda GetAccountSettings (the concurrency quota).

Tests register managed nodes with ``register_node`` (moto has no agent to report them) and may lower
the account's concurrency limit with ``set_concurrency_limit``; unreserved concurrency is the limit
minus what moto's functions reserve, as Lambda computes it.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any

DEFAULT_CONCURRENCY_LIMIT = 1000

_nodes: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
_limits: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


def register_node(
    account: str,
    region: str,
    instance_id: str,
    *,
    agent_version: str = "3.3.1142.0",
    platform: str = "Linux",
    ping_status: str = "Online",
) -> None:
    with _lock:
        _nodes[(account, region)][instance_id] = {
            "InstanceId": instance_id,
            "AgentVersion": agent_version,
            "PlatformType": platform,
            "PingStatus": ping_status,
            "ResourceType": "EC2Instance" if instance_id.startswith("i-") else "ManagedInstance",
            "IsLatestVersion": False,
        }


def set_concurrency_limit(account: str, region: str, limit: int) -> None:
    with _lock:
        _limits[(account, region)] = limit


def reset() -> None:
    with _lock:
        _nodes.clear()
        _limits.clear()


def _describe_instance_information(self: Any) -> Any:
    from moto.core.responses import ActionResult

    with _lock:
        nodes = sorted(_nodes[(self.current_account, self.region)].values(), key=lambda n: n["InstanceId"])
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 50)
    result: dict[str, Any] = {"InstanceInformationList": nodes[start : start + size]}
    if start + size < len(nodes):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def _get_account_settings(self: Any) -> Any:
    with _lock:
        limit = _limits.get((self.current_account, self.region), DEFAULT_CONCURRENCY_LIMIT)
    reserved = sum(
        int(fn.reserved_concurrency or 0)
        for fn in self.backend.list_functions()
        if getattr(fn, "reserved_concurrency", None)
    )
    body = {
        "AccountLimit": {
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - reserved,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "TotalCodeSize": 80530636800,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(self.backend.list_functions())},
    }
    return 200, {}, json.dumps(body)


def install() -> None:
    """Add both APIs to moto (idempotent); call before the server serves its first Lambda request."""
    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    SimpleSystemManagerResponse.describe_instance_information = _describe_instance_information  # type: ignore[attr-defined]
    LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]
    urls.url_paths.setdefault(r"{0}/(?P<api_version>[^/]+)/account-settings/?$", LambdaResponse.dispatch)
