"""The access token value object. Its ``repr`` never shows the token."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    token_type: str  # "Bearer" or "DPoP"
    expires_at: float  # epoch seconds
    scope: str = ""
    minted_at: float = 0.0
    # The private JWK the token is bound to (DPoP). Travels with the token, encrypted in the cache.
    dpop_jwk: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def is_dpop(self) -> bool:
        return self.token_type.lower() == "dpop"

    def fresh(self, now: float, margin: float) -> bool:
        """Usable without refresh: more than ``margin`` seconds of life left."""
        return self.expires_at - now > margin

    def usable(self, now: float, floor: float = 30.0) -> bool:
        """Still valid for at least ``floor`` seconds (good enough while a peer refreshes it)."""
        return self.expires_at - now > floor

    @property
    def reference(self) -> str:
        """An opaque, non-secret handle for this token (when it was minted)."""
        return f"minted-{int(self.minted_at * 1000)}"

    def expires_iso(self) -> str:
        return datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
