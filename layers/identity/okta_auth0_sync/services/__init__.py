"""The flows: the deactivation sync for one person, identity lookup, access revocation,
provisioning, and the invoke API's operations."""
