"""JWT claim types both verifiers share (the access token's and the DPoP proof's)."""

from __future__ import annotations

import math


def numeric_date(value: object) -> float | None:
    """``value`` as seconds if it is an RFC 7519 NumericDate: a JSON number (not a string, not a
    boolean) that is finite. Else None. PyJWT alone would take ``"9999999999"`` or ``true``
    through ``int()``; Python's JSON parser reads ``NaN`` and ``Infinity``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float: no date
        return None
    return seconds if math.isfinite(seconds) else None
