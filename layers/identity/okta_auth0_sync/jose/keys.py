"""Keys: loading a private key (PEM or JWK), the algorithms this package signs with and accepts,
JWKs in both directions (a private key's public JWK; a public JWK's verifying key), RFC 7638
thumbprints, and base64url.

PyJWT and cryptography are imported lazily: only containers that sign or verify pay for them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

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
    VerifyingKey: TypeAlias = RSAPublicKey | EllipticCurvePublicKey

# What a signature is accepted with (access tokens and DPoP proofs): asymmetric only, so never
# "none" and never an HMAC (a public key can never be used as an HMAC secret).
ALLOWED_ALGS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
# Each ES algorithm's curve: cryptography's name for it and the JWK "crv" (RFC 7518 3.4, 6.2.1.1).
_EC_CURVES = {"ES256": ("secp256r1", "P-256"), "ES384": ("secp384r1", "P-384"), "ES512": ("secp521r1", "P-521")}
_EC_ALG_OF_CURVE = {curve: alg for alg, (curve, _) in _EC_CURVES.items()}
# The JWK members that hold private (or symmetric) key material (RFC 7518 6.2.2, 6.3.2, 6.4).
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# The members an RFC 7638 thumbprint hashes, which are also all a public JWK needs.
_REQUIRED_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sha256_b64url(text: str) -> str:
    """The base64url SHA-256 of ``text`` (a DPoP proof's ``ath``, a thumbprint's digest)."""
    return b64url(hashlib.sha256(text.encode()).digest())


# -- private keys: loading and signing -------------------------------------------------------------
def load_private_key(material: Any, *, source: str = "secret") -> LoadedKey:
    """A cryptography private key from a PEM string or a private JWK mapping.

    Loading checks an RSA key's consistency, milliseconds of CPU; a container that builds its
    minter again (a rotated secret, a new connection) reuses what it loaded for the same material.
    Keys are immutable, and the cache is keyed by a digest, not by the material."""
    digest = _material_digest(material)
    loaded = _loaded_keys.get(digest) if digest else None
    if loaded is None:
        loaded = _load_private_key(material, source)
        if digest:
            if len(_loaded_keys) >= _LOADED_KEYS_MAX:
                _loaded_keys.clear()
            _loaded_keys[digest] = loaded
    return loaded


_loaded_keys: dict[str, LoadedKey] = {}
_LOADED_KEYS_MAX = 32


def _material_digest(material: Any) -> str | None:
    if isinstance(material, str):
        return hashlib.sha256(b"pem\0" + material.encode()).hexdigest()
    if isinstance(material, Mapping):
        try:
            canonical = json.dumps(dict(material), sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None  # not JSON: the loader says why
        return hashlib.sha256(b"jwk\0" + canonical.encode()).hexdigest()
    return None


def _load_private_key(material: Any, source: str) -> LoadedKey:
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
        alg = _EC_ALG_OF_CURVE.get(key.curve.name)
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


# -- JWKs, both directions -----------------------------------------------------------------------
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


def has_private_members(jwk: Mapping[str, Any]) -> bool:
    """Whether ``jwk`` carries private or symmetric key material (a DPoP proof's must not)."""
    return any(member in jwk for member in _PRIVATE_MEMBERS)


def verifying_key(jwk: Mapping[str, Any], alg: str) -> VerifyingKey | None:
    """The public key of ``jwk`` if its type fits ``alg`` (RSA for RS*, the right curve for ES*),
    else None. Only the public members are read: a private JWK still gives its public key."""
    import jwt
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if alg not in ALLOWED_ALGS:
        return None
    kty = "RSA" if alg.startswith("RS") else "EC"
    if jwk.get("kty") != kty or (kty == "EC" and jwk.get("crv") != _EC_CURVES[alg][1]):
        return None
    public = json.dumps({k: jwk.get(k) for k in _REQUIRED_MEMBERS[kty]})
    # PyJWT types from_jwk as "private or public key": a JWK of public members only is a public key.
    try:
        if kty == "RSA":
            return RSAAlgorithm.from_jwk(public)  # type: ignore[return-value]
        return ECAlgorithm.from_jwk(public)  # type: ignore[return-value]
    except (jwt.PyJWTError, ValueError, TypeError):  # PyJWT: InvalidKeyError for coordinates of the wrong size
        return None


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): what Okta puts in ``cnf.jkt``."""
    members = _REQUIRED_MEMBERS["RSA" if jwk["kty"] == "RSA" else "EC"]
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return sha256_b64url(canonical)
