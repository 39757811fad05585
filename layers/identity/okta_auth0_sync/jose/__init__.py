"""JOSE, by concept: ``keys`` (loading, algorithms, JWKs both ways, thumbprints), ``assertion``
(the RFC 7523 client assertion), ``dpop`` (RFC 9449 proofs, built and verified), ``claims``
(claim types), ``jwks`` (an issuer's keys, cached) and ``resource_server`` (the invoke API's
access-token validation)."""
