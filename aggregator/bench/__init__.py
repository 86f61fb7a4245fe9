"""`counters bench`: write units, requests, freshness latency and parser speed, beside a naive design."""
