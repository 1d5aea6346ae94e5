"""What every model shares: the connection settings that `bind` later points at the real endpoint."""
from __future__ import annotations


class _Meta:
    region = "us-east-1"
    host: str | None = None
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3
