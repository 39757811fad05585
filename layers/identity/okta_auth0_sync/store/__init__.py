"""All AWS I/O, done one way: the boto3 client factory and the shared idioms (:mod:`.aws`: client
resolution, error codes), the DynamoDB table base and item marshalling (:mod:`.dynamodb`), and the
stores on them: the lifecycle ledger, the provisioning state table, the DPoP replay table, the
token cache table; Secrets Manager and Step Functions executions."""
