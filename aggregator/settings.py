"""Function settings: read from the environment once, validated, typed."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


class ConfigError(RuntimeError):
    """A required setting is missing or unreadable; raised at cold start with its name."""


@dataclass(frozen=True)
class Settings:
    bucket_name: str = ""
    key_prefix: str = ""
    instance_values_table: str = ""
    aggregates_table: str = ""
    thresholds_table: str = ""
    alert_states_table: str = ""
    quarantine_table: str = ""
    alerts_topic_arn: str = ""
    threshold_cache_seconds: float = 30.0
    max_object_bytes: int = 16 * 1024 * 1024
    require_instance_uploader: bool = False
    max_counters_per_file: int = 10_000

    @classmethod
    def from_env(cls, *required: str, environ: dict[str, str] | None = None) -> Settings:
        """Build from UPPER_CASE environment variables; every name in `required` must be set."""
        environ = dict(os.environ if environ is None else environ)
        values = {}
        for field in fields(cls):
            raw = environ.get(field.name.upper())
            if raw is None or raw == "":
                if field.name in required:
                    raise ConfigError(f"environment variable {field.name.upper()} is not set (the template sets it)")
                continue
            try:
                values[field.name] = _parse(raw, type(field.default))
            except ValueError as exc:
                raise ConfigError(
                    f"environment variable {field.name.upper()}={raw!r} is not a valid {type(field.default).__name__}"
                ) from exc
        return cls(**values)


def _parse(raw: str, kind: type):
    if kind is bool:
        if raw.lower() not in ("true", "false"):
            raise ValueError(raw)
        return raw.lower() == "true"
    return kind(raw)
