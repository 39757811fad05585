"""The identifiers that cross a boundary, each pattern written once.

A value read from a payload, a path or a setting is checked here before it is used to build a URL,
an ARN or a key; :func:`okta_user_id` raises :class:`InvalidInput` naming the field it was read from.
"""

from __future__ import annotations

import re
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput

# Okta object ids: users (00u...), apps (0oa...), custom authorization servers (aus...). Patterns
# end in \Z, not $ ($ also matches before a trailing newline), and are applied with fullmatch.
OKTA_ID = re.compile(r"^[A-Za-z0-9]{1,64}\Z")
# An Okta user id: 00u + alphanumerics. Never a login, and never the reserved alias ``me`` (the
# caller itself) that Okta's /users/{id} routes also accept.
OKTA_USER_ID = re.compile(r"^00u[A-Za-z0-9]{1,61}\Z")
OKTA_GROUP_ID = re.compile(r"^00g[A-Za-z0-9]{1,64}\Z")
# An Auth0 user id: "{provider}|{id}" (auth0|…, google-oauth2|…, samlp|acme-saml|…), printable,
# no whitespace, at most Auth0's 512 characters.
AUTH0_USER_ID = re.compile(r"^[A-Za-z0-9_-]+\|[!-~]{1,500}\Z")
AUTH0_ROLE_ID = re.compile(r"^rol_[A-Za-z0-9]{1,64}\Z")
# Step Functions execution names this package gives or accepts: 1-80 letters, digits, '_', '.' or
# '-' (an Okta event uuid, a run id, a schedule tick's name). Step Functions refuses whitespace,
# brackets, wildcards, control characters and the specials " # % \ ^ | ~ ` $ & , ; : /: a ':' let
# through made StartExecution fail, and the event hook answer a hostile uuid with 500.
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}\Z")
# The name part of an invoke API execution id ``<flow>.<name>``: no '.' or ':', so the id splits
# at its first '.' and the name cannot reach outside the flow's state machine in the ARN.
# A Step Functions state machine ARN (any partition and region).
STATE_MACHINE_ARN = re.compile(r"^arn:aws[A-Za-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}\Z")
API_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\Z")


def matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def okta_user_id(value: Any, field: str) -> str:
    """``value`` if it is an Okta user id, else :class:`InvalidInput` naming ``field``."""
    if not matches(OKTA_USER_ID, value):
        raise InvalidInput(f"{field} must be an Okta user id such as 00u3m90rxKjGQ0G6L1d6")
    return str(value)
