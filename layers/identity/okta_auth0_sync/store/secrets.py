"""Secrets Manager: the JSON connection secrets, cached per container by Powertools."""

from __future__ import annotations

import json
from typing import Any

from okta_auth0_sync.base.errors import ConfigurationError


def load_secret(
    secret_id: str | None, *, max_age: int, force_fetch: bool = False, env_name: str = ""
) -> dict[str, Any]:
    """A JSON secret from Secrets Manager, cached by Powertools for ``max_age`` seconds."""
    if not secret_id:
        raise ConfigurationError(f"environment variable {env_name or 'for the secret'} is not set")
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    try:
        value = parameters.get_secret(secret_id, max_age=max_age, force_fetch=force_fetch)
    except GetParameterError as exc:
        raise ConfigurationError(f"cannot read secret {secret_id}: {type(exc.__cause__ or exc).__name__}") from None
    except TransformParameterError:  # pragma: no cover - no transform requested
        raise ConfigurationError(f"secret {secret_id} is not valid JSON") from None
    if isinstance(value, bytes):
        value = value.decode()
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"secret {secret_id} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"secret {secret_id} must be a JSON object")
    return data
