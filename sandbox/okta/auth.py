"""Okta authentication: authorization-server endpoints and management-API request auth.

Token endpoint (org AS ``/oauth2/v1/token`` and custom AS ``/oauth2/{id}/v1/token``):
client credentials; on the org AS also ``authorization_code`` and ``refresh_token`` for OIDC web
apps (:mod:`sandbox.okta.grants`: PKCE, single-use codes, rotation, reuse detection). The client
authenticates with ``private_key_jwt`` (the only method
for org-AS service apps) or, on a custom AS, with ``client_secret_basic``/``_post`` when
registered with a secret.  The assertion's ``jti`` is consumed as soon as the client is
authenticated, i.e. also when the request then fails (e.g. the DPoP nonce challenge).
DPoP (RFC 9449) is required for clients flagged ``dpop_bound`` and, on a custom AS, honoured
when a proof is sent.

Management API (``/api/v1/...``): ``SSWS <token>`` / ``SSWS<token>`` API tokens (all
privileges), ``Bearer <jwt>`` and ``DPoP <jwt>`` access tokens issued by the **org** AS.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from okta_auth0_sync_sandbox.jose import (
    ASYMMETRIC_ALGS,
    AssertionPolicy,
    JoseError,
    random_token,
    sha256_hex,
    split_token,
    verify_client_assertion,
    verify_dpop_proof,
    verify_own_token,
)
from okta_auth0_sync_sandbox.okta.errors import api_error, oauth_error, www_authenticate
from okta_auth0_sync_sandbox.okta.models import AuthorizationServer, OAuthClient
from okta_auth0_sync_sandbox.server import BadRequestBody, HTTPError, Request, Response

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.okta.tenant import OktaTenant

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_ASSERTION_MESSAGES = {
    "malformed": "The client_assertion token is malformed.",
    "unsigned": "The client_assertion token must be signed.",
    "alg_not_allowed": "The client_assertion token was signed with an unsupported algorithm.",
    "client_unknown": "Invalid value for 'client_id' parameter.",
    "no_keys": "The client_assertion JWT kid is invalid.",
    "kid_invalid": "The client_assertion JWT kid is invalid.",
    "bad_signature": "The client_assertion signature is invalid.",
    "iss_sub_mismatch": "The issuer and subject claims of the client_assertion must match the client_id.",
    "aud_invalid": "The audience claim for client_assertion must be the endpoint invoked for the request.",
    "exp_missing": "The client_assertion token must contain an expiration claim.",
    "expired": "The client_assertion token is expired.",
    "exp_too_far": "The client_assertion token has an expiration too far into the future.",
    "iat_future": "The client_assertion token has an issued at time in the future.",
    "nbf_future": "The client_assertion token is not yet valid.",
    "jti_replay": "The client_assertion token has already been used.",
    "too_large": "The client_assertion token is too large.",
}
_CLIENT_AUTH_FAILED = "Client authentication failed. Either the client or the client credentials are invalid."

_DPOP_MESSAGES = {
    "malformed": "DPoP proof JWT cannot be parsed.",
    "typ": "'typ' header in the DPoP proof JWT is invalid.",
    "alg": "'alg' header in the DPoP proof JWT is invalid.",
    "jwk": "'jwk' header in the DPoP proof JWT is invalid.",
    "bad_jwk": "'jwk' header in the DPoP proof JWT is invalid.",
    "bad_signature": "The DPoP proof JWT signature is invalid.",
    "htm": "'htm' claim in the DPoP proof JWT is invalid.",
    "htu": "'htu' claim in the DPoP proof JWT is invalid.",
    "iat": "'iat' claim in the DPoP proof JWT is invalid.",
    "jti_missing": "'jti' claim in the DPoP proof JWT is invalid.",
    "jti_replay": "The DPoP proof JWT has already been used.",
    "ath": "'ath' claim in the DPoP proof JWT is invalid.",
    "jkt_mismatch": "The DPoP proof JWT key does not match the access token binding.",
}
_DPOP_RESOURCE_CODES = {
    "jti_replay": "dpop_proof_already_used",
    "ath": "dpop_proof_invalid_ath",
    "jkt_mismatch": "invalid_access_token_dpop_binding",
}
NONCE_REQUIRED = "Authorization server requires nonce in DPoP proof."


@dataclass
class Principal:
    """Who is calling the management API."""

    kind: str  # "ssws" | "oauth"
    client_id: str | None
    scopes: frozenset[str]
    actor: dict[str, Any]
    claims: dict[str, Any] = field(default_factory=dict)

    def has_any(self, scopes: tuple[str, ...]) -> bool:
        return self.kind == "ssws" or any(s in self.scopes for s in scopes)


class OktaAuth:
    def __init__(self, tenant: OktaTenant) -> None:
        self.tenant = tenant

    # -- helpers ----------------------------------------------------------------------------
    def token_urls(self, server: AuthorizationServer) -> set[str]:
        path = f"{server.path()}/v1/token"
        return {f"{self.tenant.base_url}{path}", f"https://{self.tenant.domain}{path}"}

    # -- metadata + keys -------------------------------------------------------------------
    def metadata(self, server: AuthorizationServer) -> Response:
        base = self.tenant.base_url
        prefix = f"{base}{server.path()}"
        scopes = sorted(server.scopes)
        body = {
            "issuer": server.issuer(base),
            "authorization_endpoint": f"{prefix}/v1/authorize",
            "token_endpoint": f"{prefix}/v1/token",
            "registration_endpoint": f"{base}/oauth2/v1/clients",
            "jwks_uri": f"{prefix}/v1/keys",
            "response_types_supported": [
                "code", "token", "id_token", "code id_token", "code token", "id_token token", "code id_token token",
            ],
            "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
            "grant_types_supported": [
                "authorization_code", "implicit", "refresh_token", "password", "client_credentials",
            ],
            "subject_types_supported": ["public"],
            "scopes_supported": scopes,
            "token_endpoint_auth_methods_supported": (
                ["client_secret_basic", "client_secret_post", "private_key_jwt"]
                if server.id is None
                else ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"]
            ),
            "token_endpoint_auth_signing_alg_values_supported": list(ASYMMETRIC_ALGS),
            "claims_supported": ["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub", "cnf"],
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": f"{prefix}/v1/introspect",
            "revocation_endpoint": f"{prefix}/v1/revoke",
            "dpop_signing_alg_values_supported": list(ASYMMETRIC_ALGS),
        }  # fmt: skip
        return Response.json(body)

    def keys(self, server: AuthorizationServer) -> Response:
        return Response.json(
            {"keys": [k.jwk() for k in server.keys]}, headers=[("Cache-Control", "max-age=3477, must-revalidate")]
        )

    # -- token endpoint ------------------------------------------------------------------------
    def token(self, request: Request, server: AuthorizationServer) -> Response:
        if request.content_type != "application/x-www-form-urlencoded":
            raise oauth_error(
                400, "invalid_request", "The request must be form-encoded (application/x-www-form-urlencoded)."
            )
        try:
            form = request.form()
        except BadRequestBody as exc:
            raise oauth_error(400, "invalid_request", "The request body could not be parsed.") from exc
        grant_type = form.get("grant_type")
        if not grant_type:
            raise oauth_error(400, "invalid_request", "The 'grant_type' parameter is required.")
        if grant_type in ("authorization_code", "refresh_token") and server.id is None:
            return self._web_app_grant(request, form, server, grant_type)
        if grant_type != "client_credentials":
            raise oauth_error(
                400,
                "unsupported_grant_type",
                f"The authorization grant type '{grant_type}' is not supported by this endpoint; "
                "configured grant types: [client_credentials].",
            )
        client = self._authenticate_client(request, form, server)
        if "client_credentials" not in client.grant_types:
            raise oauth_error(
                400, "unauthorized_client", "The client is not authorized to use the provided grant type."
            )
        scopes = self._granted_scopes(form, server, client)
        jkt = None
        if client.dpop_bound or (server.id is not None and request.header("DPoP") is not None):
            jkt = self._token_dpop(request, server)
        now = self.tenant.now()
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": f"AT.{random_token(32)}",
            "iss": server.issuer(self.tenant.base_url),
            "aud": server.token_audience(self.tenant.base_url),
            "iat": int(now),
            "exp": int(now) + server.token_lifetime,
            "cid": client.client_id,
            "scp": scopes,
            "sub": client.client_id,
        }
        if jkt:
            claims["cnf"] = {"jkt": jkt}
        token = server.keys[0].sign(claims)
        body = {
            "token_type": "DPoP" if jkt else "Bearer",
            "expires_in": server.token_lifetime,
            "access_token": token,
            "scope": " ".join(scopes),
        }
        return Response.json(body, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _web_app_grant(
        self, request: Request, form: dict[str, str], server: AuthorizationServer, grant_type: str
    ) -> Response:
        client = self._authenticate_client(request, form, server)
        if client.app_type != "web":
            raise oauth_error(
                400, "unauthorized_client", "The client is not authorized to use the provided grant type."
            )
        jkt = None
        if client.dpop_bound:
            jkt = self._token_dpop(request, server)  # before the grant: a nonce round trip consumes nothing
        grants = self.tenant.grants
        body = (
            grants.exchange_code(form, client, jkt)
            if grant_type == "authorization_code"
            else grants.refresh(form, client, jkt)
        )
        return Response.json(body, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _authenticate_client(self, request: Request, form: dict[str, str], server: AuthorizationServer) -> OAuthClient:
        assertion = form.get("client_assertion")
        basic = request.header("Authorization") or ""
        if assertion is not None:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise oauth_error(
                    400,
                    "invalid_request",
                    f"The 'client_assertion_type' parameter must be '{JWT_BEARER}'.",
                )
            policy = AssertionPolicy(audiences=self.token_urls(server), max_lifetime=3600.0, iat_skew=60.0)

            def keys_for(client_id: str) -> list[dict[str, Any]] | None:
                client = server.clients.get(client_id)
                return None if client is None else list(client.keys)

            try:
                claims = verify_client_assertion(
                    assertion,
                    keys_for=keys_for,
                    policy=policy,
                    now=self.tenant.now(),
                    jti_cache=self.tenant.jti_cache,
                    client_id=form.get("client_id") or None,
                )
            except JoseError as exc:
                raise oauth_error(
                    401, "invalid_client", _ASSERTION_MESSAGES.get(exc.reason, _CLIENT_AUTH_FAILED)
                ) from exc
            return server.clients[claims["sub"]]
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:].strip()).decode()
                client_id, _, secret = decoded.partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
            except (ValueError, UnicodeDecodeError) as exc:
                raise oauth_error(401, "invalid_client", _CLIENT_AUTH_FAILED) from exc
        if not client_id:
            raise oauth_error(401, "invalid_client", _CLIENT_AUTH_FAILED)
        client = server.clients.get(client_id)
        if client is None:
            raise oauth_error(401, "invalid_client", _ASSERTION_MESSAGES["client_unknown"])
        if client.auth_method != "client_secret" or not secret:
            raise oauth_error(401, "invalid_client", _CLIENT_AUTH_FAILED)
        digest = sha256_hex(secret)
        if not any(hmac.compare_digest(digest, h) for h in client.secret_hashes):
            raise oauth_error(401, "invalid_client", "The client secret supplied for a confidential client is invalid.")
        return client

    @staticmethod
    def _granted_scopes(form: dict[str, str], server: AuthorizationServer, client: OAuthClient) -> list[str]:
        requested = [s for s in (form.get("scope") or "").split(" ") if s]
        if not requested:
            raise oauth_error(
                400,
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, "
                "'scope' must be provided.",
            )
        unknown = [s for s in requested if s not in server.scopes]
        if unknown:
            raise oauth_error(
                400, "invalid_scope", "One or more scopes are not configured for the authorization server resource."
            )
        missing = [s for s in requested if s not in client.scopes]
        if missing:
            raise oauth_error(
                400, "invalid_scope", f"The following scopes were requested, but not granted: {' '.join(missing)}"
            )
        return list(dict.fromkeys(requested))

    def _token_dpop(self, request: Request, server: AuthorizationServer) -> str:
        proofs = request.header_values("DPoP")
        if not proofs:
            raise oauth_error(400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
        if len(proofs) > 1:
            raise oauth_error(400, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed.")
        try:
            proof = verify_dpop_proof(
                proofs[0],
                htm="POST",
                htu=self.token_urls(server),
                now=self.tenant.now(),
                jti_cache=self.tenant.jti_cache,
            )
        except JoseError as exc:
            raise oauth_error(
                400, "invalid_dpop_proof", _DPOP_MESSAGES.get(exc.reason, _DPOP_MESSAGES["malformed"])
            ) from exc
        nonce = proof.claims.get("nonce")
        if not isinstance(nonce, str) or not server.nonces.is_valid(nonce):
            raise oauth_error(400, "use_dpop_nonce", NONCE_REQUIRED, [("DPoP-Nonce", server.nonces.current())])
        return proof.jkt

    # -- management API ---------------------------------------------------------------------
    def authenticate(self, request: Request, any_of: tuple[str, ...]) -> Principal:
        """Authenticate a management-API request and check its scopes (any of ``any_of``)."""
        header = request.header("Authorization")
        if not header:
            raise HTTPError(api_error(403, "E0000005", "Invalid session"))
        if header[:4].upper() == "SSWS":
            return self._ssws(header[4:].strip())
        scheme, _, token = header.partition(" ")
        scheme_l = scheme.lower()
        if scheme_l not in ("bearer", "dpop") or not token.strip():
            raise self._invalid_token(request, "Bearer", any_of, "The access token is invalid.")
        token = token.strip()
        is_dpop = scheme_l == "dpop"
        wire_scheme = "DPoP" if is_dpop else "Bearer"
        claims = self._verify_access_token(request, token, wire_scheme, any_of)
        jkt = (claims.get("cnf") or {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
        if is_dpop:
            if not jkt:
                raise self._invalid_token(request, "DPoP", any_of, "The access token is not DPoP bound.")
            self._resource_dpop(request, token, jkt, any_of)
        elif jkt:
            raise self._challenge(
                request,
                400,
                "DPoP",
                any_of,
                "invalid_request",
                "The DPoP-bound access token must be sent with the DPoP authentication scheme.",
            )
        scopes = frozenset(claims.get("scp") or ())
        client = self.tenant.org_as.clients.get(str(claims.get("cid")))
        principal = Principal(
            "oauth",
            str(claims.get("cid")),
            scopes,
            {
                "id": claims.get("cid"),
                "type": "PublicClientApp",
                "alternateId": claims.get("cid"),
                "displayName": client.name if client else claims.get("cid"),
                "detailEntry": None,
            },
            claims,
        )
        if not principal.has_any(any_of):
            raise self._challenge(
                request,
                403,
                wire_scheme,
                any_of,
                "insufficient_scope",
                "The access token provided does not contain the required scopes.",
                body=api_error(403, "E0000006", "You do not have permission to perform the requested action"),
            )
        return principal

    def _ssws(self, token: str) -> Principal:
        info = self.tenant.api_tokens.get(sha256_hex(token)) if token else None
        if info is None:
            raise HTTPError(api_error(401, "E0000011", "Invalid token provided"))
        return Principal("ssws", None, frozenset(), dict(self.tenant.admin_actor()))

    def _verify_access_token(
        self, request: Request, token: str, scheme: str, any_of: tuple[str, ...]
    ) -> dict[str, Any]:
        server = self.tenant.org_as
        try:
            split_token(token)
            claims = verify_own_token(token, server.keys)
        except JoseError as exc:
            raise self._invalid_token(request, scheme, any_of, "The access token is invalid.") from exc
        base = self.tenant.base_url
        if claims.get("iss") != base or claims.get("aud") != base:
            raise self._invalid_token(request, scheme, any_of, "The access token is invalid.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= self.tenant.now():
            raise self._invalid_token(request, scheme, any_of, "The access token is expired.")
        if self.tenant.grants.access_token_revoked(claims.get("jti")):
            raise self._invalid_token(request, scheme, any_of, "The access token is invalid.")
        return claims

    def _resource_dpop(self, request: Request, token: str, jkt: str, any_of: tuple[str, ...]) -> None:
        proofs = request.header_values("DPoP")
        if not proofs:
            raise self._challenge(
                request,
                400,
                "DPoP",
                any_of,
                "invalid_request",
                "A DPoP proof is required for DPoP-bound access tokens.",
            )
        if len(proofs) > 1:
            raise self._challenge(
                request, 400, "DPoP", any_of, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed."
            )
        htus = {request.decoded_url, f"https://{self.tenant.domain}{request.path}"}
        try:
            verify_dpop_proof(
                proofs[0],
                htm=request.method,
                htu=htus,
                now=self.tenant.now(),
                jti_cache=self.tenant.jti_cache,
                access_token=token,
                expected_jkt=jkt,
            )
        except JoseError as exc:
            code = _DPOP_RESOURCE_CODES.get(exc.reason, "invalid_dpop_proof")
            raise self._challenge(
                request, 400, "DPoP", any_of, code, _DPOP_MESSAGES.get(exc.reason, _DPOP_MESSAGES["malformed"])
            ) from exc

    def _invalid_token(self, request: Request, scheme: str, any_of: tuple[str, ...], description: str) -> HTTPError:
        return self._challenge(request, 401, scheme, any_of, "invalid_token", description)

    def _challenge(
        self,
        request: Request,
        status: int,
        scheme: str,
        any_of: tuple[str, ...],
        error: str,
        description: str,
        body: Response | None = None,
    ) -> HTTPError:
        response = body or api_error(status, "E0000011", "Invalid token provided")
        response.status = status
        response.set_header(
            "WWW-Authenticate",
            www_authenticate(
                scheme,
                self.tenant.base_url,
                error=error,
                description=description,
                scope=any_of[0] if any_of else None,
                resource=request.path,
            ),
        )
        return HTTPError(response)
