"""Provisioning's payloads, one module per step (as ``okta_auth0_sync.services.provisioning``):
the schedule's fan-out (:mod:`.runs`), the listing of a role's members (:mod:`.members`), one batch
of the Distributed Map (:mod:`.batch`; the listing writes the batches to S3), the report
(:mod:`.report`). Each handler imports its step's models only. The execution input of one mapping's
run is :class:`~okta_auth0_sync.domain.provisioning.ProvisioningRequest`, and the ``run`` object
every step passes on is :class:`~okta_auth0_sync.domain.provisioning.RunOptions`."""
