"""The JSON object in a model's reply, when the server did not enforce the schema: the whole content, a
fenced block, or the first balanced {...}; `LlmBadOutput` when there is none."""

from __future__ import annotations

import json
import re
from typing import Any


class LlmBadOutput(ValueError):
    """The model answered, but not with the JSON asked for."""

    def __init__(self, message: str, content: str) -> None:
        super().__init__(message)
        self.content = content


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_object(content: str) -> dict[str, Any]:
    """The JSON object in a reply: the whole content, a fenced block, or the first balanced {...}."""
    candidates = [content.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(content)]
    start = content.find("{")
    if start >= 0:
        candidates.append(_balanced(content, start))
    for text in candidates:
        if not text:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise LlmBadOutput("the model did not answer with a JSON object", content)


def _balanced(text: str, start: int) -> str:
    """From `start` (a `{`) to its matching `}`, skipping braces inside strings."""
    depth = 0
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]
