"""Scheduled provisioning, Auth0 role -> Okta group: every member, once, at the rate limit.

One run per role->group mapping:

1. ``members``  list every role member (checkpoint paging), skip those already provisioned (the
   state table), write the rest to S3 as batches of ids: the Distributed Map reads them from
   there, so no member list ever travels in state (256 KiB) and 100,000 members work;
2. ``worker``   per batch: the members' profiles from Auth0 in a few search calls, then per
   member create the Okta user *with* ``groupIds`` (one call), or on E0000001 find it and PUT
   the group membership; outcomes recorded in the state table as they happen;
3. ``report``   the run's summary from the state table: counts, failures with reasons, API
   calls per tenant, 429s, tokens minted, duration; logged, returned, published as metrics.

``runs`` fans a schedule with several mappings out into one execution per mapping; ``policy``
holds a mapping, a run's options and the provisioning policy from the environment.
"""
