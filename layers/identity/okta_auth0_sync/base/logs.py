"""The package's logger: structured JSON (Powertools) through a redacting formatter, defence in
depth on top of the rule that no secret or token is ever handed to a logger.

The formatter walks the record before it is serialized, so every string is redacted as written
(not JSON-escaped) and every field is seen with its name:

- a field named like a secret (``client_secret``, ``CLIENT_SECRET``, ``clientSecret``,
  ``refresh_token``, ``private_key``, ``password``, ``X-API-Key``: anything ending in ``secret``,
  ``token``, ``password``, ``private_key`` or ``api_key``...) loses its value, whatever its type
  (a private JWK too);
- a credential header (``Authorization``, ``Proxy-Authorization``, ``X-Okta-Verification-Challenge``,
  ``Cookie``, ``DPoP``, in any case, as a value or a list of values) keeps only its auth scheme;
- the event hook secret (an object of ``current`` and ``previous``) loses both;
- an object that looks like a JWK (it has ``kty``) loses its private members
  (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``k``, ``oth``);
- in every string: JWTs, ``Bearer``/``DPoP``/``SSWS`` values (any case), PEM private keys (cut
  short too), and secret assignments in JSON, Python reprs, form bodies and ``key=value`` text
  (``client_secret=...&``, ``"password": "..."``, ``{'client_secret': '...'}``, escaped quotes).

Objects the JSON serializer does not know are turned into text first (``str``), then redacted.
Every text rule takes time linear in the text: a logged event can hold 256 KB an attacker chose.
"""

from __future__ import annotations

import logging
import re
import string
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
# Every rule runs in time linear in the text (a logged event may hold 256 KB an attacker chose):
# no unbounded scan is repeated from many starting points, and a rule runs only when its keyword
# is in the text.

_SCHEMES = r"bearer|dpop|ssws|basic|digest|token|negotiate"
# A value as it can be written after ``name:`` or ``name=``: JSON-escaped quotes (a JSON document
# inside a logged string), double quotes with escapes, single quotes (a Python repr), or bare
# (form-encoded bodies, key=value text) up to a delimiter.
_QUOTED = r"""\\"(?:(?!\\").)*\\"|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_BARE_CHAR = r"""[^\s"'\\,;&)}\]]"""
# A bare value ends at a delimiter, or at an ``&`` that starts the next form field.
_BARE = rf"""(?![<{{\[(])(?:{_BARE_CHAR}|&(?![\w.~-]{{1,64}}=))+"""
# After a colon a bare word may be prose ("the token: expired"): it is masked when it looks like a
# credential (8 characters or more, a digit or a mark inside its first 64).
_BARE_CREDENTIAL = rf"""(?={_BARE_CHAR}{{8}})(?={_BARE_CHAR}{{0,64}}?[0-9_~+/=.-]{_BARE_CHAR}){_BARE}"""
_ASSIGN = r"""\\?["']?[ \t]*[:=][ \t]*"""
# ``name=`` takes any value; ``name:`` a quoted one or a bare one that looks like a credential.
_ASSIGN_VALUE = rf"""\\?["']?[ \t]*(?:=[ \t]*|:[ \t]*(?={_QUOTED}|{_BARE_CREDENTIAL}))"""

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----")
# What can still be a key's body when the END line is missing (cut short): all of it goes.
_PEM_BODY = re.compile(r"(?:[A-Za-z0-9+/=:,\s-]|\\[nrt])*")
# A JWT starts a token (never inside a longer run of base64url characters).
_JWT = re.compile(r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]*+")
_SCHEME_VALUE = re.compile(r"\b(Bearer|DPoP|SSWS)\s*+[A-Za-z0-9._~+/=-]{12,}+")
# Schemes are case-insensitive (RFC 9110 11.1); in another case the value must look like a token
# (a digit or a punctuation mark in it), so prose such as "bearer authentication" is kept.
_SCHEME_VALUE_ANY_CASE = re.compile(
    r"\b((?i:bearer|dpop|ssws))\s++(?=[A-Za-z]{0,256}[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}+"
)
# Names are found in an ASCII-lowered copy of the text (same length, so same positions) by a
# case-sensitive pattern, and what follows them is matched in the text itself, from there on.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_HEADER_NAME = re.compile(r"(?:proxy-)?authorization|x-okta-verification-challenge|set-cookie|cookie")
_HEADER_VALUE = re.compile(rf"({_ASSIGN})((?:{_QUOTED})|(?!(?i:{_SCHEMES})[ \t]+<)(?:(?i:{_SCHEMES})[ \t]+)?{_BARE})")
# The end of a field name that says "secret" (client_secret, clientSecret, REFRESH_TOKEN,
# dpop_private_key, x-api-key...): what precedes it is left as it is.
_SECRET_NAME = re.compile(r"secret|token|pass(?:word|wd)|private[_-]?key|api[_-]?key|client[_-]?assertion")
_SECRET_VALUE = re.compile(rf"({_ASSIGN_VALUE})({_QUOTED}|{_BARE})")
_HOOK_SECRET_FIELD = re.compile(rf"""(\\?["'](?:current|previous)\\?["'][ \t]*:[ \t]*)({_QUOTED})""")
_HOOK_SECRET_SHAPE = re.compile(r"""["']previous\\?["'][ \t]*:""")
_JWK_PRIVATE_MEMBER = re.compile(
    r"""(\\?["'](?:d|p|q|dp|dq|qi|k)\\?["'][ \t]*:[ \t]*)(\\?["'])[A-Za-z0-9_-]{16,}+(\\?["'])"""
)


def _unquote(value: str) -> tuple[str, str, str]:
    """(opening quote, inner text, closing quote) of a matched value."""
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote, value[len(quote) : -len(quote)], quote
    return "", value, ""


def _mask_assignment(name: str, value: re.Match[str]) -> str:
    assign = value.group(1)
    open_quote, inner, close_quote = _unquote(value.group(2))
    if not inner or _MARKER.fullmatch(inner):
        return name + value.group(0)
    return f"{name}{assign}{open_quote}{REDACTED}{close_quote}"


def _mask_header_assignment(name: str, value: re.Match[str]) -> str:
    open_quote, inner, close_quote = _unquote(value.group(2))
    return f"{name}{value.group(1)}{open_quote}{mask_credential(inner)}{close_quote}"


def _sub_after_names(
    text: str,
    lowered: str,
    names: re.Pattern[str],
    value: re.Pattern[str],
    mask: Callable[[str, re.Match[str]], str],
) -> str:
    """Each ``name`` (found in ``lowered``) followed by a ``value`` (matched in ``text``), masked."""
    parts: list[str] = []
    pos = 0
    for name in names.finditer(lowered):
        if name.start() < pos:
            continue
        found = value.match(text, name.end())
        if found is None:
            continue
        parts += (text[pos : name.start()], mask(text[name.start() : name.end()], found))
        pos = found.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def _mask_hook_secret(match: re.Match[str]) -> str:
    open_quote, inner, close_quote = _unquote(match.group(2))
    if not inner or _MARKER.fullmatch(inner):
        return match.group(0)
    return f"{match.group(1)}{open_quote}{REDACTED}{close_quote}"


def _redact_pems(text: str) -> str:
    """PEM private keys, whole (BEGIN to the first END after it) or cut short (no END line)."""
    if "PRIVATE KEY-----" not in text:
        return text
    parts: list[str] = []
    pos, ends_left = 0, True
    while (begin := _PEM_BEGIN.search(text, pos)) is not None:
        parts.append(text[pos : begin.start()])
        end = _PEM_END.search(text, begin.end()) if ends_left else None
        ends_left = end is not None  # no END after this BEGIN: none after the next ones either
        body = end or _PEM_BODY.match(text, begin.end())
        pos = body.end() if body else begin.end()
        parts.append("<private-key:redacted>")
    parts.append(text[pos:])
    return "".join(parts)


def _redact_tokens(text: str) -> str:
    """The rules that cannot break a JSON document: run on the serialized record as well."""
    text = _redact_pems(text)
    if "eyJ" in text:
        text = _JWT.sub("<jwt:redacted>", text)
    lower = text.lower()
    if "bearer" in lower or "dpop" in lower or "ssws" in lower:
        text = _SCHEME_VALUE.sub(r"\1 <redacted>", text)
        text = _SCHEME_VALUE_ANY_CASE.sub(r"\1 <redacted>", text)
    return text


def redact(text: str) -> str:
    """``text`` without the secrets it shows (idempotent; clean text comes back unchanged)."""
    text = _redact_tokens(text)
    text = _sub_after_names(text, text.translate(_ASCII_LOWER), _HEADER_NAME, _HEADER_VALUE, _mask_header_assignment)
    text = _sub_after_names(text, text.translate(_ASCII_LOWER), _SECRET_NAME, _SECRET_VALUE, _mask_assignment)
    if "previous" in text and _HOOK_SECRET_SHAPE.search(text):
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

# Records of the package's logger go to its redacting handler only. Propagating them as well would
# hand every record, unredacted, to whatever handler sits on the root logger: Lambda's runtime
# handler (Powertools filters the handlers present when it starts, not ones added later), or one a
# library installs with logging.basicConfig.
logging.getLogger(logger.name).propagate = False

# botocore writes whole request and response bodies and signed headers at DEBUG: a Secrets Manager
# answer (SecretString), a PutSecretValue request, the role's session token (X-Amz-Security-Token).
# Lambda's advanced logging controls (ApplicationLogLevel DEBUG) set the root logger to DEBUG, so
# these loggers are held at INFO whatever the root level; their INFO and above still come through.
PAYLOAD_LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.auth", "botocore.awsrequest")
for _name in PAYLOAD_LOGGERS:
    logging.getLogger(_name).setLevel(logging.INFO)
