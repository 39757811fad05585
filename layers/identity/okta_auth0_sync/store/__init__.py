"""All AWS I/O: the boto3 client factory, the lifecycle ledger, the provisioning state table, the
DPoP replay table, Secrets Manager and Step Functions executions."""
