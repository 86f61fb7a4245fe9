"""What each function does, written against adapters passed in (no boto3 here either)."""
