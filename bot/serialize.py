"""Models to JSON-ready dicts, for `--format json` and the adapters' payloads."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from bot.timeutil import to_iso


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("headline", "counts_by_category", "trend", "extra_sources"):
            if hasattr(type(value), extra) and isinstance(getattr(type(value), extra), property):
                out[extra] = to_plain(getattr(value, extra))
        return out
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value
