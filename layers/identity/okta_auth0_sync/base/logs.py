"""The package's logger: structured JSON (Powertools) through a redacting formatter, defence in
depth on top of the rule that no secret or token is ever handed to a logger. Anything shaped like
a JWT, an ``Authorization`` value, a PEM private key or a ``client_secret``/``api_token`` field is
masked."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

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
