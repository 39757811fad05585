"""Logger, Tracer and Metrics (Powertools), and the one decorator every handler wears.

The logger is the package's redacting logger (:mod:`okta_auth0_sync.base.logs`); handlers take it,
the metrics and the decorator from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeAlias, overload

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from okta_auth0_sync import settings
from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import SyncError
from okta_auth0_sync.base.logs import logger

metrics = Metrics()

__all__ = ["MetricUnit", "handler", "logger", "metrics"]


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
    about 200 ms (measured by ``python -m bench cold_start``), and Lambda's and Step Functions'
    active tracing record the invocations and the workflow without it. The setting is taken from the
    container's settings when an invocation starts, never at import (a malformed environment fails
    the invocation with a ``ConfigurationError``, not the container's start); the Tracer is made by
    the first traced invocation. The event hook receiver never uses it: Okta waits 3 s at most."""

    def decorate(func: Handler) -> Handler:
        @functools.wraps(func)
        def run(event: dict[str, Any], context: Any) -> Any:
            with container.invocation(context):
                try:
                    return func(event, context)
                except SyncError as exc:
                    if exc.metric:  # e.g. OktaConsentRequired: its alarm tells an admin to act
                        metrics.add_metric(name=exc.metric, unit=MetricUnit.Count, value=1)
                    raise

        traced: list[Handler] = []  # the Tracer's wrapper of ``run``, made by the first traced invocation

        @functools.wraps(func)
        def maybe_traced(event: dict[str, Any], context: Any) -> Any:
            if not (trace if trace is not None else settings.current().xray_sdk_tracing):
                return run(event, context)
            if not traced:
                from aws_lambda_powertools import Tracer

                traced.append(Tracer().capture_lambda_handler(run, capture_response=False))
            return traced[0](event, context)

        inner: Handler = run if trace is False else maybe_traced
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            metrics.log_metrics(inner, capture_cold_start_metric=True)
        )

    return decorate(fn) if fn is not None else decorate
