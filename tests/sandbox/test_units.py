"""Unit checks of the shared machinery against published references."""

from __future__ import annotations

import pytest

from okta_auth0_sync_sandbox.auth0 import lucene
from okta_auth0_sync_sandbox.jose import access_token_hash, jwk_thumbprint
from okta_auth0_sync_sandbox.okta.expressions import ExpressionError, compile_expression

RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64"
    "tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91"
    "CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)


def test_rfc7638_thumbprint_example():
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc9449_ath_example():
    # RFC 9449 section 7.1: the ath of the example access token
    assert (
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
        == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )


def test_okta_expressions():
    user = {
        "status": "ACTIVE",
        "profile": {"email": "A.B+x@Example.com", "lastName": 'O"Brien', "n": 3},
        "target": [{"id": "1"}, {"id": "2"}],
    }

    def match(expr, fold=True):
        return compile_expression(expr, fold_case=fold)(user)

    assert match('profile.email eq "a.b+x@example.com"') and not match(
        'profile.email eq "a.b+x@example.com"', fold=False
    )
    assert match('profile.lastName eq "o\\"brien"')
    assert match("profile.n gt 2 and profile.n le 3")
    assert match('target.id eq "2"') and match('not (status eq "SUSPENDED")')
    assert match('status eq "X" or profile.email sw "a.b"')
    for bad in ("", "profile.email", "profile.email eq", 'profile.email like "x"', '(status eq "A"'):
        with pytest.raises(ExpressionError):
            compile_expression(bad, fold_case=True)


def test_lucene_subset():
    user = {
        "user_id": "auth0|abc",
        "email": "Jane.Doe@Example.com",
        "logins_count": 4,
        "identities": [{"connection": "db"}, {"connection": "okta-workforce"}],
        "app_metadata": {"okta_sync": {"deactivated": True}},
    }

    def match(query):
        return lucene.matches(lucene.parse(query), user)

    assert match('email:"jane.doe@example.com"') and match("email:jane*")
    assert match('user_id:("auth0|zzz" OR "auth0|abc")') and not match("user_id:AUTH0|abc")
    assert match("identities.connection:okta-workforce AND app_metadata.okta_sync.deactivated:true")
    assert match("logins_count:[1 TO 4]") and not match("logins_count:{1 TO 4}")
    assert match("_exists_:app_metadata.okta_sync") and match("-blocked:true")
    assert match('user_id:"auth0|abc" email:nobody@x')  # implicit OR
    with pytest.raises(lucene.LuceneError):
        lucene.parse("email:(a OR b")
