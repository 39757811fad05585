"""JOSE, both halves side by side: keys and thumbprints, the client assertion, DPoP proofs, and
the resource server that verifies the invoke API's callers."""
