"""The one set of Powertools objects, created on first use (never at import time).

Service name and metrics namespace come from the template's environment (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE); the defaults here serve local runs. Tracer is left out on purpose: it
imports the X-Ray SDK (about 400 ms of cold start) and the functions' logs and metrics say what a
trace would.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

Handler = Callable[[Any, Any], Any]


@lru_cache(maxsize=1)
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ssm-warden"))


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "SSMWarden"),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ssm-warden"),
    )


def instrumented(handler: Handler) -> Handler:
    """Wrap a Lambda entry point in Logger context injection and EMF metric flushing.

    The Powertools decorators are applied on the first invocation, not at import, so that importing a
    handler module reads no environment and stays cheap.
    """
    wrapped: Handler | None = None

    @functools.wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        nonlocal wrapped
        if wrapped is None:
            with_logs = logger().inject_lambda_context(handler, clear_state=True)
            wrapped = metrics().log_metrics(with_logs)
        return wrapped(event, context)

    return entry
