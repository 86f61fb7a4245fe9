"""Packaging the function code and deploying the template: used by `counters deploy` and the local stack."""
