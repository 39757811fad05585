"""okta-auth0-sync: the domain library shared by every Lambda handler (shipped as a layer).

Modules, by concern (docs/architecture.md):

- ``config``          connection secrets (Secrets Manager via Powertools parameters) and settings;
- ``http``            the one HTTP layer (timeouts, retries, rate-limit pacing, call counting);
- ``tokens``          token minting (Auth0 client credentials, Okta private_key_jwt / DPoP, SSWS)
                      and the shared, encrypted token cache;
- ``okta``/``auth0``  the tenant clients (just the calls this package needs) and their errors;
- ``connections``     wiring: secret -> token source -> HTTP client -> tenant client, per container;
- ``lookup``, ``event_hooks``, ``deactivation``, ``provisioning``: the flows' domain logic;
- ``ledger``, ``revocation``: the per-Okta-user lifecycle ledger; ending a person's Auth0 access;
- ``api_auth``, ``invoke``: the invoke API's resource server and routes;
- ``workflows``, ``aws``, ``observability``, ``counters``, ``runtime``: plumbing, one place each.
"""

__version__ = "0.1.0"
