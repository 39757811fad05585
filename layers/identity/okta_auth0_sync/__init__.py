"""okta-auth0-sync: the domain library shared by every Lambda handler (shipped as a layer).

Modules, by concern:

- ``config``        connection secrets (Secrets Manager via Powertools parameters) and settings;
- ``http``          the one HTTP layer (timeouts, retries, rate-limit pacing, call counting);
- ``tokens``        token minting (Auth0 client credentials, Okta private_key_jwt / DPoP, SSWS)
                    and the shared token cache;
- ``okta``/``auth0``  the tenant clients (just the calls this package needs) and their models;
- ``connections``   wiring: secret -> token source -> HTTP client -> tenant client, once per container;
- ``identities``    the domain logic (lookups, deactivation, provisioning).
"""

__version__ = "0.1.0"
