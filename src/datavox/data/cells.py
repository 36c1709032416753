"""Database values as JSON-safe cells: what every dialect's driver returns, said the same way."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from uuid import UUID

from datavox.types import Cell


def json_cell(value: Any) -> Cell:
    """One database value as a JSON-safe cell."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        # Nested values (DuckDB LIST/STRUCT, PostgreSQL arrays) travel as JSON text.
        return json.dumps(value, default=lambda v: json_cell(v), ensure_ascii=False)
    return str(value)
