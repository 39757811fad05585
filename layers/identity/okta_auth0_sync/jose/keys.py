"""JOSE helpers: private keys (PEM or JWK), client assertions (``private_key_jwt``) and DPoP proofs.

PyJWT and cryptography are imported lazily: only containers that mint an Okta token pay for them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote, urlsplit

from okta_auth0_sync.base.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    # What load_private_key returns: any PEM private key, or what a JWK holds (a JWK without
    # "d" loads as a public key). Only RSA and EC private keys sign (see signing_key).
    LoadedKey: TypeAlias = PrivateKeyTypes | RSAPublicKey | EllipticCurvePublicKey
    SigningPrivateKey: TypeAlias = RSAPrivateKey | EllipticCurvePrivateKey

ASSERTION_LIFETIME = 300  # seconds; Okta allows up to an hour, short is safer

_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_private_key(material: Any, *, source: str = "secret") -> LoadedKey:
    """A cryptography private key from a PEM string or a private JWK mapping."""
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    try:
        if isinstance(material, str):
            return serialization.load_pem_private_key(material.encode(), password=None)
        if isinstance(material, Mapping):
            kty: object = material.get("kty")
            loaders: dict[object, type[RSAAlgorithm] | type[ECAlgorithm]] = {"RSA": RSAAlgorithm, "EC": ECAlgorithm}
            loader = loaders.get(kty)
            if loader is None:
                raise ConfigurationError(f"{source}: JWK kty must be RSA or EC")
            return loader.from_jwk(json.dumps(dict(material)))
    except ConfigurationError:
        raise
    except Exception as exc:  # cryptography/PyJWT raise several types; never echo the key
        raise ConfigurationError(f"{source}: the private key cannot be loaded ({type(exc).__name__})") from None
    raise ConfigurationError(f"{source}: the private key must be a PEM string or a JWK object")


def signing_key(key: LoadedKey) -> tuple[SigningPrivateKey, str]:
    """``key`` as a key that can sign a client assertion or a DPoP proof, with its default alg."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = _EC_ALGS.get(key.curve.name)
        if alg:
            return key, alg
    raise ConfigurationError("private key must be RSA or EC (P-256, P-384, P-521)")


def default_alg(key: LoadedKey) -> str:
    return signing_key(key)[1]


def check_alg(key: LoadedKey, alg: str) -> str:
    family = default_alg(key)[:2]
    if alg[:2] != family:
        raise ConfigurationError(f"alg {alg} does not match the key type ({'RSA' if family == 'RS' else 'EC'})")
    if family == "ES" and alg != default_alg(key):
        raise ConfigurationError(f"alg {alg} does not match the EC curve (use {default_alg(key)})")
    return alg


def public_jwk(key: SigningPrivateKey, *, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of a private key (what to paste into Okta, or a DPoP proof's ``jwk``)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if isinstance(key, rsa.RSAPrivateKey):
        text = RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = ECAlgorithm.to_jwk(key.public_key())
    jwk = {k: v for k, v in json.loads(text).items() if k in ("kty", "n", "e", "crv", "x", "y")}
    if kid:
        jwk["kid"] = kid
    return jwk


def private_jwk(key: SigningPrivateKey) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    text = RSAAlgorithm.to_jwk(key) if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm.to_jwk(key)
    jwk: dict[str, Any] = json.loads(text)
    return jwk


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): what Okta puts in ``cnf.jkt``."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def client_assertion(
    client_id: str,
    audience: str,
    key: SigningPrivateKey,
    *,
    alg: str,
    kid: str | None,
    lifetime: int = ASSERTION_LIFETIME,
    now: float | None = None,
) -> str:
    """A ``private_key_jwt`` client assertion: ``iss`` = ``sub`` = client id, ``aud`` = the token
    URL, short ``exp``, fresh ``jti`` (single use at Okta), ``kid`` when known."""
    import jwt

    issued = int(now if now is not None else time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def htu(url: str) -> str:
    """The DPoP ``htu`` for a request URL: scheme://host/path, no query or fragment, path decoded
    (Okta compares against the decoded path; see okta-sdk-python #541)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{unquote(parts.path)}"


class DpopKey:
    """A DPoP key pair and the proofs it signs."""

    def __init__(self, private_jwk_: Mapping[str, Any]) -> None:
        self.private, self.alg = signing_key(load_private_key(private_jwk_, source="DPoP key"))
        self.public = public_jwk(self.private)
        self.jkt = thumbprint(self.public)
        self._jwk = dict(private_jwk_)

    @classmethod
    def generate(cls) -> DpopKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        return cls(private_jwk(ec.generate_private_key(ec.SECP256R1())))

    def to_jwk(self) -> dict[str, Any]:
        return dict(self._jwk)

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        now: float | None = None,
    ) -> str:
        import jwt

        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(now if now is not None else time.time()),
            "jti": str(uuid.uuid4()),
        }
        if access_token is not None:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"typ": "dpop+jwt", "jwk": self.public})
