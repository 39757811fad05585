"""Logger, Tracer and Metrics (Powertools), and the one decorator every handler wears.

Logs are structured JSON and pass through a redacting formatter: defence in depth on top of
the rule that no secret or token is ever handed to a logger. Anything shaped like a JWT, an
``Authorization`` value, a PEM private key or a ``client_secret``/``api_token`` field is masked.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from . import runtime

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import PowertoolsLogRecord

_REDACTIONS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "<jwt:redacted>"),
    (re.compile(r"\b(Bearer|DPoP|SSWS)\s*[A-Za-z0-9._~+/=-]{12,}"), r"\1 <redacted>"),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "<private-key:redacted>",
    ),
    (
        re.compile(
            r'("?(?:client_secret|api_token|access_token|private_key|client_assertion|password)"?\s*[:=]\s*)'
            r'"[^"]*"'
        ),
        r'\1"<redacted>"',
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return redact(super().serialize(log))


logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics()

__all__ = ["MetricUnit", "handler", "logger", "metrics", "redact"]


def xray_sdk_enabled() -> bool:
    return os.environ.get("XRAY_SDK_TRACING", "false").lower() == "true"


# A Lambda handler: (event, context) -> response.
Handler: TypeAlias = Callable[[dict[str, Any], Any], Any]


@overload
def handler(fn: Handler, *, correlation_id_path: str | None = None, trace: bool | None = None) -> Handler: ...


@overload
def handler(
    fn: None = None, *, correlation_id_path: str | None = None, trace: bool | None = None
) -> Callable[[Handler], Handler]: ...


def handler(
    fn: Handler | None = None, *, correlation_id_path: str | None = None, trace: bool | None = None
) -> Handler | Callable[[Handler], Handler]:
    """Logging context (with a correlation id), EMF metrics with the cold-start metric, the Lambda
    deadline for the HTTP layer's retry budget and, when enabled, X-Ray subsegments via the
    Powertools Tracer (responses never captured: they may hold identities).

    The X-Ray SDK is opt-in (``XRAY_SDK_TRACING=true``; ``trace`` overrides it): its recorder costs
    about 200 ms of every cold start (measured by ``python -m bench cold_start``), and Lambda's and
    Step Functions' active tracing record the invocations and the workflow without it. The event
    hook receiver never uses it: Okta waits 3 s at most."""

    def decorate(func: Handler) -> Handler:
        @functools.wraps(func)
        def run(event: dict[str, Any], context: Any) -> Any:
            with runtime.invocation(context):
                return func(event, context)

        inner: Handler = run
        if trace if trace is not None else xray_sdk_enabled():
            from aws_lambda_powertools import Tracer

            inner = Tracer().capture_lambda_handler(run, capture_response=False)
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            metrics.log_metrics(inner, capture_cold_start_metric=True)
        )

    return decorate(fn) if fn is not None else decorate
