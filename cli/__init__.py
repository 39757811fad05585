"""``okta-auth0-sync``: the operator CLI (installed by the package; not shipped to Lambda)."""
