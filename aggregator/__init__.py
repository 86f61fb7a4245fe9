"""aggregator: event-driven counter aggregation on AWS (S3 → SNS → SQS → Lambda → DynamoDB)."""
