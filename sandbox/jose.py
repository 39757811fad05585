"""JOSE machinery shared by both tenants (PyJWT + cryptography).

* key generation, public JWKs, RFC 7638 thumbprints;
* :class:`SigningKey`: a tenant / authorization-server signing key (kid, JWKS entry, sign);
* :func:`verify_client_assertion`: RFC 7523 ``private_key_jwt`` client authentication
  (alg allow-list, ``kid`` handling, signature against the client's registered keys,
  ``iss``/``sub``/``aud``/``exp``/``iat``/``jti`` rules, single-use ``jti``);
* :func:`verify_dpop_proof`: RFC 9449 proofs (``typ``, asymmetric alg, public ``jwk``,
  signature, ``htm``/``htu``/``iat``/``jti``/``nonce``/``ath``);
* :class:`JtiCache` (single-use identifiers) and :class:`NonceManager` (DPoP nonces).

Failures raise :class:`JoseError` carrying a machine-readable ``reason``; each tenant maps
reasons to its own wire errors.  Nothing here ever logs a token.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ASYMMETRIC_ALGS: tuple[str, ...] = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class JoseError(Exception):
    """A JOSE validation failure.  ``reason`` is a stable code, ``detail`` free text."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# -- encoding -------------------------------------------------------------------------------
def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def access_token_hash(token: str) -> str:
    """DPoP ``ath``: base64url(SHA-256(ASCII token))."""
    return b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, **unverified**."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JoseError("malformed", "not a compact JWS")
    head, body, _ = token.split(".")
    try:
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JoseError("malformed", "undecodable segments") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("malformed", "segments are not JSON objects")
    return header, claims


# -- keys -----------------------------------------------------------------------------------
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def generate_private_key(alg: str = "RS256", rsa_bits: int = 2048) -> PrivateKey:
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if alg in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[alg]())
    raise ValueError(f"cannot generate a key for {alg}")


def private_key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private_key_pem(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("only RSA and EC keys are supported")
    return key


def public_jwk(key: PrivateKey | PublicKey, kid: str | None = None, alg: str | None = None) -> dict[str, Any]:
    """The public JWK of ``key`` (never private members)."""
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    if isinstance(pub, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(pub, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(pub, as_dict=True)
    out: dict[str, Any] = {"kty": jwk["kty"]}
    if kid:
        out["kid"] = kid
    out["use"] = "sig"
    if alg:
        out["alg"] = alg
    for member in ("crv", "x", "y", "e", "n"):
        if member in jwk:
            out[member] = jwk[member]
    return out


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url."""
    kty = jwk.get("kty")
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}.get(str(kty))
    if required is None or any(m not in jwk for m in required):
        raise JoseError("bad_jwk", "unsupported or incomplete JWK")
    canonical = json.dumps({m: jwk[m] for m in required}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        elif kty == "EC":
            key = ECAlgorithm.from_jwk(json.dumps(jwk))
        else:
            raise JoseError("bad_jwk", f"unsupported kty {kty!r}")
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise JoseError("bad_jwk", "JWK cannot be loaded") from exc
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key


def _alg_fits_key(alg: str, jwk: dict[str, Any]) -> bool:
    if alg.startswith(("RS", "PS")):
        return jwk.get("kty") == "RSA"
    if alg in _EC_CURVES:
        return jwk.get("kty") == "EC" and jwk.get("crv") == {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
    return False


def verify_signature(token: str, jwk: dict[str, Any], alg: str) -> dict[str, Any]:
    """Verify ``token``'s signature with ``jwk`` using exactly ``alg``; return its claims."""
    if not _alg_fits_key(alg, jwk):
        raise JoseError("bad_signature", "algorithm does not fit the key")
    key = key_from_jwk(jwk)
    try:
        decoded = jwt.api_jws.PyJWS().decode_complete(token, key=key, algorithms=[alg])
        claims = json.loads(decoded["payload"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise JoseError("bad_signature", "signature verification failed") from exc
    if not isinstance(claims, dict):
        raise JoseError("malformed", "claims are not an object")
    return claims


@dataclass
class SigningKey:
    """A server-side signing key: RS256 by default, with ``kid``."""

    kid: str
    private_key: PrivateKey = field(repr=False)
    alg: str = "RS256"
    certificate_subject: str | None = None
    _x5c: list[str] | None = field(default=None, repr=False)

    @classmethod
    def generate(cls, kid: str | None = None, alg: str = "RS256", certificate_subject: str | None = None) -> SigningKey:
        return cls(kid or random_token(16), generate_private_key(alg), alg, certificate_subject)

    def sign(self, claims: dict[str, Any], typ: str | None = None) -> str:
        headers: dict[str, Any] = {"kid": self.kid}
        if typ:
            headers["typ"] = typ
        return jwt.encode(claims, self.private_key, algorithm=self.alg, headers=headers)

    def jwk(self) -> dict[str, Any]:
        out = public_jwk(self.private_key, self.kid, self.alg)
        if self.certificate_subject:
            out["x5c"] = self._certificate_chain()
            der = base64.b64decode(out["x5c"][0])
            out["x5t"] = b64url_encode(hashlib.sha1(der).digest())  # noqa: S324 (x5t is SHA-1 by definition)
        return out

    def _certificate_chain(self) -> list[str]:
        if self._x5c is None:
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.certificate_subject or "sandbox")])
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(self.private_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .sign(self.private_key, hashes.SHA256())
            )
            self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        return self._x5c


@dataclass
class GeneratedKey:
    """A key pair made for a client.  ``private_key_pem`` is the only copy of the private
    key: the tenant keeps just ``public_jwk``."""

    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_key_pem: str = field(repr=False)


def client_key(
    public: dict[str, Any] | None = None, alg: str = "RS256", kid: str | None = None
) -> tuple[dict[str, Any], GeneratedKey | None]:
    """The public JWK to register for a client: ``public`` (private members stripped, ``kid``
    defaulted) or a freshly generated pair, returned as :class:`GeneratedKey`."""
    if public is not None:
        jwk = {k: v for k, v in public.items() if k not in _PRIVATE_JWK_MEMBERS}
        jwk.setdefault("kid", kid or random_token(16))
        return jwk, None
    private = generate_private_key(alg)
    kid = kid or random_token(16)
    jwk = public_jwk(private, kid, alg)
    return jwk, GeneratedKey(kid, alg, jwk, private_key_pem(private))


def verify_own_token(token: str, keys: Iterable[SigningKey]) -> dict[str, Any]:
    """Verify a token this server issued (by ``kid``); claims are not checked here.

    Every API request presents one of a handful of tokens, so a verified (token, key) pair is
    remembered: the RSA verification would otherwise dominate the sandbox's CPU under load."""
    header, _ = split_token(token)
    by_kid = {k.kid: k for k in keys}
    key = by_kid.get(str(header.get("kid")))
    if key is None or header.get("alg") != key.alg:
        raise JoseError("unknown_key", "token not signed by this server")
    return dict(_verified_own_token(token, key.kid, key.alg, json.dumps(key.jwk(), sort_keys=True)))


@functools.lru_cache(maxsize=256)
def _verified_own_token(token: str, kid: str, alg: str, jwk_json: str) -> dict[str, Any]:
    return verify_signature(token, json.loads(jwk_json), alg)


# -- single use + nonces --------------------------------------------------------------------
class JtiCache:
    """Remembers used ``jti`` values (per namespace) until they could no longer be valid."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def use(self, namespace: str, jti: str, keep_until: float, now: float) -> bool:
        """Mark ``jti`` used; ``False`` if it was already used."""
        with self._lock:
            if len(self._seen) > 50_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            key = (namespace, jti)
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = keep_until
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class NonceManager:
    """DPoP nonces: a new one every ``rotate_every`` seconds, each valid ``valid_for`` s."""

    def __init__(
        self, clock: Callable[[], float], rotate_every: float = 86400.0, valid_for: float = 3 * 86400.0
    ) -> None:
        self._clock = clock
        self.rotate_every = rotate_every
        self.valid_for = valid_for
        self._issued: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def current(self) -> str:
        now = self._clock()
        with self._lock:
            if not self._issued or now >= self._issued[-1][1] + self.rotate_every:
                self._issued.append((random_token(24), now))
            self._issued = [(n, t) for n, t in self._issued if now < t + self.valid_for] or self._issued[-1:]
            return self._issued[-1][0]

    def rotate(self) -> str:
        with self._lock:
            self._issued.append((random_token(24), self._clock()))
        return self.current()

    def is_valid(self, nonce: str) -> bool:
        now = self._clock()
        with self._lock:
            return any(secrets.compare_digest(nonce, n) and now < t + self.valid_for for n, t in self._issued)

    def clear(self) -> None:
        with self._lock:
            self._issued.clear()


# -- client assertions (RFC 7523) ----------------------------------------------------------
@dataclass
class AssertionPolicy:
    audiences: set[str]
    max_lifetime: float  # exp may be at most this far ahead
    allowed_algs: tuple[str, ...] = ASYMMETRIC_ALGS
    require_jti: bool = False
    require_iat: bool = False
    leeway: float = 0.0  # clock skew tolerated on exp
    iat_skew: float = 0.0  # clock skew tolerated on iat / nbf ("not in the future")
    max_length: int | None = None


def verify_client_assertion(
    assertion: str,
    *,
    keys_for: Callable[[str], list[dict[str, Any]] | None],
    policy: AssertionPolicy,
    now: float,
    jti_cache: JtiCache,
    client_id: str | None = None,
) -> dict[str, Any]:
    """Authenticate a client by its signed assertion; return the verified claims.

    ``keys_for(client_id)`` returns the client's registered public JWKs (``None`` for an
    unknown client).  The ``jti`` is consumed only when everything else checked out.
    """
    if policy.max_length is not None and len(assertion) > policy.max_length:
        raise JoseError("too_large", "assertion too long")
    header, unverified = split_token(assertion)
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none":
        raise JoseError("unsigned", "alg none")
    if alg not in policy.allowed_algs:
        raise JoseError("alg_not_allowed", f"alg {alg}")
    subject = unverified.get("sub")
    issuer = unverified.get("iss")
    claimed = client_id or subject or issuer
    if not isinstance(claimed, str) or not claimed:
        raise JoseError("client_unknown", "no client id")
    keys = keys_for(claimed)
    if keys is None:
        raise JoseError("client_unknown", "unknown client")
    if not keys:
        raise JoseError("no_keys", "client has no registered keys")
    kid = header.get("kid")
    if kid is not None:
        candidates = [k for k in keys if k.get("kid") == kid]
        if not candidates:
            raise JoseError("kid_invalid", "kid matches no registered key")
    else:
        candidates = list(keys)
    claims: dict[str, Any] | None = None
    for jwk in candidates:
        try:
            claims = verify_signature(assertion, jwk, str(alg))
            break
        except JoseError:
            continue
    if claims is None:
        raise JoseError("bad_signature", "no registered key verifies the signature")
    if claims.get("iss") != claimed or claims.get("sub") != claimed:
        raise JoseError("iss_sub_mismatch", "iss and sub must be the client_id")
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(a, str) and a in policy.audiences for a in auds):
        raise JoseError("aud_invalid", "audience")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise JoseError("exp_missing", "exp required")
    if exp <= now - policy.leeway:
        raise JoseError("expired", "assertion expired")
    if exp > now + policy.max_lifetime + policy.leeway:
        raise JoseError("exp_too_far", "exp too far ahead")
    iat = claims.get("iat")
    if iat is None and policy.require_iat:
        raise JoseError("iat_missing", "iat required")
    if iat is not None and (not isinstance(iat, int | float) or iat > now + policy.iat_skew):
        raise JoseError("iat_future", "iat in the future")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now + policy.iat_skew:
        raise JoseError("nbf_future", "not yet valid")
    jti = claims.get("jti")
    if jti is None:
        if policy.require_jti:
            raise JoseError("jti_missing", "jti required")
    elif not jti_cache.use(f"assertion:{claimed}", str(jti), float(exp) + 60, now):
        raise JoseError("jti_replay", "jti already used")
    return claims


# -- DPoP proofs (RFC 9449) ----------------------------------------------------------------
@dataclass
class DPoPProof:
    jkt: str
    header: dict[str, Any]
    claims: dict[str, Any]


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def verify_dpop_proof(
    proof: str,
    *,
    htm: str,
    htu: Iterable[str],
    now: float,
    jti_cache: JtiCache,
    allowed_algs: tuple[str, ...] = ASYMMETRIC_ALGS,
    iat_window: float = 300.0,
    access_token: str | None = None,
    expected_jkt: str | None = None,
) -> DPoPProof:
    """Validate a DPoP proof for a request with method ``htm`` to one of the URLs ``htu``.

    Reasons raised: ``malformed``, ``typ``, ``alg``, ``jwk``, ``bad_signature``, ``htm``,
    ``htu``, ``iat``, ``jti_missing``, ``jti_replay``, ``ath``, ``jkt_mismatch``.
    The caller handles nonces (``claims.get("nonce")``).
    """
    header, _ = split_token(proof)
    if header.get("typ") != "dpop+jwt":
        raise JoseError("typ", "typ must be dpop+jwt")
    alg = header.get("alg")
    if alg not in allowed_algs:
        raise JoseError("alg", f"alg {alg!r} not allowed")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or _PRIVATE_JWK_MEMBERS & set(jwk):
        raise JoseError("jwk", "jwk header missing or not a public key")
    claims = verify_signature(proof, jwk, str(alg))
    jkt = jwk_thumbprint(jwk)
    if claims.get("htm") != htm.upper():
        raise JoseError("htm", "htm mismatch")
    claimed_htu = claims.get("htu")
    if not isinstance(claimed_htu, str) or _strip_query(claimed_htu) not in {_strip_query(u) for u in htu}:
        raise JoseError("htu", "htu mismatch")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or abs(now - iat) > iat_window:
        raise JoseError("iat", "iat outside the accepted window")
    if access_token is not None:
        if claims.get("ath") != access_token_hash(access_token):
            raise JoseError("ath", "ath mismatch")
        if expected_jkt is not None and not secrets.compare_digest(jkt, expected_jkt):
            raise JoseError("jkt_mismatch", "proof key does not match the token binding")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise JoseError("jti_missing", "jti required")
    if not jti_cache.use(f"dpop:{jkt}", jti, float(iat) + 2 * iat_window, now):
        raise JoseError("jti_replay", "proof already used")
    return DPoPProof(jkt, header, claims)
