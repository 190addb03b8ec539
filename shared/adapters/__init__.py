"""The AWS services other than DynamoDB — S3 (`blobs`), SQS (`route_queue`, `timers`), SES (`mailer`),
EventBridge (`event_bus`), Secrets Manager (`secrets`) — and Powertools' batch utility (`batches`). The only
package (besides the local stack) that imports boto3.

May import: boto3/botocore, Powertools, `shared.domain`, `shared.settings`, `shared.observability`.
"""
