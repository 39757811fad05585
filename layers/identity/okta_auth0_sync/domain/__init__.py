"""The domain, pure: identities, the lifecycle event model, the deactivation and provisioning
decisions, profile mapping and the Okta event hook's delivery parsing. No I/O: nothing here imports
``requests``, ``boto3`` or any module outside ``base`` and ``domain`` (tests/unit/test_architecture.py)."""
