"""The package's logger: structured JSON (Powertools) through a redacting formatter, defence in
depth on top of the rule that no secret or token is ever handed to a logger.

The formatter walks the record before it is serialized, so every string is redacted as written
(not JSON-escaped) and every field is seen with its name:

- a field named like a secret (``client_secret``, ``CLIENT_SECRET``, ``clientSecret``,
  ``refresh_token``, ``private_key``, ``password``, anything ending in ``secret``, ``token``,
  ``password`` or ``private_key``...) loses its value, whatever its type (a private JWK too);
- a credential header (``Authorization``, ``Proxy-Authorization``, ``X-Okta-Verification-Challenge``,
  ``X-API-Key``, ``Cookie``, ``DPoP``, in any case, as a value or a list of values) keeps only its
  auth scheme;
- the event hook secret (an object of ``current`` and ``previous``) loses both;
- an object that looks like a JWK (it has ``kty``) loses its private members
  (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``k``, ``oth``);
- in every string: JWTs, ``Bearer``/``DPoP``/``SSWS`` values (any case), PEM private keys (cut
  short too), and secret assignments in JSON, Python reprs, form bodies and ``key=value`` text
  (``client_secret=...&``, ``"password": "..."``, ``{'client_secret': '...'}``, escaped quotes).

Objects the JSON serializer does not know are turned into text first (``str``), then redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import PowertoolsLogRecord

REDACTED = "<redacted>"
_MARKER = re.compile(r"<(?:[a-z-]+:)?redacted>")
_MAX_DEPTH = 64  # deeper structures are not logged (and could not be serialized safely)

# -- text rules --------------------------------------------------------------------------------

_SCHEMES = r"bearer|dpop|ssws|basic|digest|token|negotiate"
# A value as it can be written after ``name:`` or ``name=``: JSON-escaped quotes (a JSON document
# inside a logged string), double quotes with escapes, single quotes (a Python repr), or bare
# (form-encoded bodies, key=value text) up to a delimiter.
_QUOTED = r"""\\"(?:(?!\\").)*\\"|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_BARE_CHAR = r"""[^\s"'\\,;&)}\]]"""
# A bare value ends at a delimiter, or at an ``&`` that starts the next form field.
_BARE = rf"""(?![<{{\[(])(?:{_BARE_CHAR}|&(?![\w.~-]+=))+"""
# After a colon a bare word may be prose ("the token: expired"): it is masked when it looks like a
# credential (8 characters or more, a digit or a mark inside).
_BARE_CREDENTIAL = rf"""(?={_BARE_CHAR}{{8}})(?={_BARE_CHAR}*?[0-9_~+/=.-]{_BARE_CHAR}){_BARE}"""
_ASSIGN = r"""\\?["']?[ \t]*[:=][ \t]*"""
# ``name=`` takes any value; ``name:`` a quoted one or a bare one that looks like a credential.
_ASSIGN_VALUE = rf"""\\?["']?[ \t]*(?:=[ \t]*|:[ \t]*(?={_QUOTED}|{_BARE_CREDENTIAL}))"""

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)
# Cut short (no END line): everything that can still be the key's body goes.
_PEM_TRUNCATED = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=:,\s-]|\\[nrt])*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_SCHEME_VALUE = re.compile(r"\b(Bearer|DPoP|SSWS)\s*[A-Za-z0-9._~+/=-]{12,}")
# Schemes are case-insensitive (RFC 9110 11.1); in another case the value must look like a token
# (a digit or a punctuation mark in it), so prose such as "bearer authentication" is kept.
_SCHEME_VALUE_ANY_CASE = re.compile(r"\b((?i:bearer|dpop|ssws))\s+(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}")
_HEADER_ASSIGNMENT = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-okta-verification-challenge|x-api-key|set-cookie|cookie)"
    rf"({_ASSIGN})"
    rf"((?:{_QUOTED})|(?!(?:{_SCHEMES})[ \t]+<)(?:(?:{_SCHEMES})[ \t]+)?{_BARE})"
)
_SECRET_NAME = r"[A-Za-z0-9_-]*?(?:secret|token|pass(?:word|wd)|private[_-]?key|api[_-]?key|client[_-]?assertion)"
_FIELD_ASSIGNMENT = re.compile(rf"(?i)(?<![<\w-])({_SECRET_NAME})({_ASSIGN_VALUE})({_QUOTED}|{_BARE})")
_HOOK_SECRET_FIELD = re.compile(rf"""(\\?["'](?:current|previous)\\?["'][ \t]*:[ \t]*)({_QUOTED})""")
_HOOK_SECRET_SHAPE = re.compile(r"""["']previous\\?["'][ \t]*:""")
_JWK_PRIVATE_MEMBER = re.compile(
    r"""(\\?["'](?:d|p|q|dp|dq|qi|k)\\?["'][ \t]*:[ \t]*)(\\?["'])[A-Za-z0-9_-]{16,}(\\?["'])"""
)


def _unquote(value: str) -> tuple[str, str, str]:
    """(opening quote, inner text, closing quote) of a matched value."""
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote, value[len(quote) : -len(quote)], quote
    return "", value, ""


def _mask_assignment(match: re.Match[str]) -> str:
    name, assign, value = match.group(1), match.group(2), match.group(3)
    open_quote, inner, close_quote = _unquote(value)
    if not inner or _MARKER.fullmatch(inner):
        return match.group(0)
    return f"{name}{assign}{open_quote}{REDACTED}{close_quote}"


def _mask_header_assignment(match: re.Match[str]) -> str:
    open_quote, inner, close_quote = _unquote(match.group(3))
    masked = mask_credential(inner)
    return f"{match.group(1)}{match.group(2)}{open_quote}{masked}{close_quote}"


def _mask_hook_secret(match: re.Match[str]) -> str:
    open_quote, inner, close_quote = _unquote(match.group(2))
    if not inner or _MARKER.fullmatch(inner):
        return match.group(0)
    return f"{match.group(1)}{open_quote}{REDACTED}{close_quote}"


def _redact_tokens(text: str) -> str:
    """The rules that cannot break a JSON document: run on the serialized record as well."""
    text = _PEM.sub("<private-key:redacted>", text)
    text = _PEM_TRUNCATED.sub("<private-key:redacted>", text)
    text = _JWT.sub("<jwt:redacted>", text)
    text = _SCHEME_VALUE.sub(r"\1 <redacted>", text)
    return _SCHEME_VALUE_ANY_CASE.sub(r"\1 <redacted>", text)


def redact(text: str) -> str:
    """``text`` without the secrets it shows (idempotent; clean text comes back unchanged)."""
    text = _redact_tokens(text)
    text = _HEADER_ASSIGNMENT.sub(_mask_header_assignment, text)
    text = _FIELD_ASSIGNMENT.sub(_mask_assignment, text)
    if _HOOK_SECRET_SHAPE.search(text):
        text = _HOOK_SECRET_FIELD.sub(_mask_hook_secret, text)
    if "kty" in text:
        text = _JWK_PRIVATE_MEMBER.sub(rf"\1\2{REDACTED}\3", text)
    return text


# -- structure rules ---------------------------------------------------------------------------

_SECRET_SUFFIXES = ("secret", "token", "password", "passwd", "privatekey", "apikey", "clientassertion")
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxyauthorization", "dpop", "xoktaverificationchallenge", "cookie", "cookies", "setcookie"}
)
_JWK_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})
_HOOK_SECRET_KEYS = frozenset({"current", "previous"})
_LEADING_SCHEME = re.compile(rf"(?i)^({_SCHEMES})[ \t]+\S")


def _normalized(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _is_secret_field(key: str) -> bool:
    return _normalized(key).endswith(_SECRET_SUFFIXES)


def mask_credential(value: str) -> str:
    """A credential header's value: its auth scheme, if it has one, and a marker."""
    redacted = redact(value)
    scheme = _LEADING_SCHEME.match(redacted)
    rest = redacted[scheme.end(1) :].strip() if scheme else redacted
    if _MARKER.fullmatch(rest):
        return redacted
    return f"{scheme.group(1)} {REDACTED}" if scheme else REDACTED


def _mask_secret(value: Any) -> Any:
    """A secret field's value, whatever its shape (a private JWK, a list of keys...); nothing to
    hide in an empty value or a flag."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, str):
        redacted = redact(value)
        return redacted if _MARKER.fullmatch(redacted) else REDACTED
    if isinstance(value, list | tuple):
        return [_mask_secret(item) for item in value]
    return REDACTED


def _is_header_value(value: Any) -> bool:
    """A header's value (API Gateway: a string; multiValueHeaders, cookies: a list of strings)."""
    return isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))


def _mask_header(value: str | list[str] | tuple[str, ...]) -> str | list[str]:
    return mask_credential(value) if isinstance(value, str) else [mask_credential(v) for v in value]


def _scrub_mapping(mapping: Mapping[Any, Any], depth: int, default: Callable[[Any], Any]) -> dict[Any, Any]:
    keys = {key for key in mapping if isinstance(key, str)}
    hook_secret = "current" in keys and keys <= _HOOK_SECRET_KEYS
    jwk = isinstance(mapping.get("kty"), str)
    out: dict[Any, Any] = {}
    for key, value in mapping.items():
        name = _normalized(key) if isinstance(key, str) else ""
        if hook_secret or (jwk and key in _JWK_PRIVATE_MEMBERS) or (name and _is_secret_field(key)):
            out[key] = _mask_secret(value)
        elif name in _CREDENTIAL_HEADERS and _is_header_value(value):
            out[key] = _mask_header(value)
        else:
            out[key] = scrub(value, depth + 1, default)
    return out


def scrub(value: Any, depth: int = 0, default: Callable[[Any], Any] = str) -> Any:
    """A copy of a log record's value with every secret masked (see the module's rules).
    ``default`` turns an object JSON does not know into something it does (the formatter's)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if depth >= _MAX_DEPTH:
        return "<nested too deeply to log>"
    if isinstance(value, Mapping):
        return _scrub_mapping(value, depth, default)
    if isinstance(value, list | tuple):
        return [scrub(item, depth + 1, default) for item in value]
    return scrub(default(value), depth + 1, default)


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        scrubbed = scrub(log, default=self.json_default)
        return _redact_tokens(super().serialize(scrubbed))


logger = Logger(logger_formatter=RedactingFormatter())
