"""Where an Okta refresh token lives between refreshes: the Okta connection secret in Secrets
Manager (the functions), or a JSON file (local use, the CLI's ``--secret-file``).

Both are read fresh every time (never Powertools' cached copy: a rotated refresh token must be
seen by the very next holder of the refresh lease) and written whole (the secret is one JSON
document; every other field is written back as read). Nothing here logs or reports a value.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Protocol

from okta_auth0_sync.base.errors import ConfigurationError, UpstreamUnavailable
from okta_auth0_sync.store import aws

ACCESS_DENIED = ("AccessDeniedException", "AccessDenied")


class RefreshTokenVault(Protocol):
    """The connection secret as a document: read it fresh, write it whole."""

    @property
    def where(self) -> str: ...  # for messages: the secret id or the file path

    def read(self) -> dict[str, Any]: ...

    def write(self, data: dict[str, Any]) -> None: ...


class SecretsManagerVault:
    """``GetSecretValue`` (fresh) and ``PutSecretValue`` (a new ``AWSCURRENT`` version) on one secret."""

    def __init__(self, secret_id: str, client: Any = None) -> None:
        if not secret_id:
            raise ConfigurationError("the Okta connection secret's id is not set (OKTA_SECRET_ID)")
        self.secret_id = secret_id
        self._client = client

    @property
    def where(self) -> str:
        return f"secret {self.secret_id}"

    def read(self) -> dict[str, Any]:
        try:
            value = aws.resolve(self._client, "secretsmanager").get_secret_value(SecretId=self.secret_id)
        except Exception as exc:
            raise _aws_error(exc, f"cannot read secret {self.secret_id}") from None
        return _document(value.get("SecretString"), self.where)

    def write(self, data: dict[str, Any]) -> None:
        try:
            aws.resolve(self._client, "secretsmanager").put_secret_value(
                SecretId=self.secret_id, SecretString=json.dumps(data)
            )
        except Exception as exc:
            raise _aws_error(exc, f"cannot write secret {self.secret_id}") from None


class FileVault:
    """A JSON file, replaced atomically (a temporary file in the same folder, mode 0600, renamed)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def where(self) -> str:
        return f"file {self.path}"

    def read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read {self.where}: {type(exc).__name__}") from None
        return _document(text, self.where)

    def write(self, data: dict[str, Any]) -> None:
        folder = self.path.parent
        fd, temporary = tempfile.mkstemp(prefix=".okta-secret-", dir=folder)
        try:
            os.fchmod(fd, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.write("\n")
            os.replace(temporary, self.path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise ConfigurationError(f"cannot write {self.where}: {exc.strerror or type(exc).__name__}") from None


def _document(text: Any, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where} must hold a JSON object")
    return data


def _aws_error(exc: Exception, what: str) -> Exception:
    code = aws.error_code(exc)
    if code in ACCESS_DENIED or code == "ResourceNotFoundException":
        return ConfigurationError(f"{what}: {code} (the function needs GetSecretValue and PutSecretValue on it)")
    return UpstreamUnavailable(f"{what}: {code or type(exc).__name__}", tenant="aws")
