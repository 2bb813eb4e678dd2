"""Translation of AWS SDK failures into ssm-warden's exceptions, for this package's repositories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ssm_warden.errors import TransientError, WardenError

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionConflictException",
        "LimitExceededException",
    }
)


class AwsCallError(WardenError):
    """An AWS call failed in a way a retry will not fix (permissions, missing table)."""


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Raise ``TransientError`` for throttling, 5xx and connection failures, ``AwsCallError`` otherwise.

    Conditional-check failures are not caught here: callers handle them where they are expected.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "ConditionalCheckFailedException":
            raise
        if code in _TRANSIENT_CODES or status >= 500:
            raise TransientError(f"{what} failed ({code}); will be retried") from exc
        raise AwsCallError(f"{what} failed ({code})") from exc
    except BotoCoreError as exc:
        raise TransientError(f"{what} failed ({type(exc).__name__}); will be retried") from exc
