"""The domain, pure: identities (``identities``, ``ids``), the lifecycle event model (``events``)
and a person's desired state (``lifecycle``), the deactivation and provisioning decisions
(``deactivation``, ``provisioning``, ``profiles``) and the policies an operator configures
(``policies``, built by ``okta_auth0_sync.settings``), the Okta event hook's delivery parsing
(``hooks``), and every payload at a boundary (``payloads``). No I/O: nothing here reads the
environment or imports ``requests``, ``boto3`` or any module outside ``base`` and ``domain``
(tests/unit/test_architecture.py)."""
