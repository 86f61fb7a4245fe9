"""Domain errors that adapters raise in place of AWS errors."""


class AggregatorError(Exception):
    """Base of every error this system raises on purpose."""


class ObjectMissing(AggregatorError):
    """The object (or the version) an event names no longer exists."""


class ItemTooLarge(AggregatorError):
    """A DynamoDB item would exceed the 400 KB limit."""


class StoreUnavailable(AggregatorError):
    """An AWS call failed after botocore's retries; the caller should retry later."""
