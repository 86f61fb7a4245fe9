"""Lambda entry points: thin wiring from an event to one use case."""
