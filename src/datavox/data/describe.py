"""`datavox schema --describe`: one LLM call writes descriptions, synonyms and example questions into the
semantic model file, for the user to review as a diff.

The LLM sees the tables, their columns (role and a few sample values) and the words the generated model
already has; it answers with JSON in a fixed schema. What it writes only fills gaps and adds words: a
description someone wrote is kept, synonyms are added to the existing ones, unknown tables and columns are
ignored. The file written is then a hand-edited model (no generated mark), so `datavox schema --refresh`
keeps everything it says. The offline engine uses the added words and examples with no LLM at question time.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from datavox.data.schema import Catalog
from datavox.data.semantic import SemanticModel
from datavox.llm import LlmClient

MAX_COLUMNS = 40  # per table in the prompt
MAX_SYNONYMS = 6  # added per table or column
MAX_EXAMPLES = 8
MAX_TEXT = 240  # characters of one description

_WORDS = {"type": "array", "items": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "examples", "tables"],
    "properties": {
        "description": {"type": "string"},
        "examples": _WORDS,
        "tables": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "description", "synonyms", "columns"],
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "synonyms": _WORDS,
                    "columns": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name", "description", "synonyms"],
                            "properties": {
                                "name": {"type": "string"},
                                "description": {"type": "string"},
                                "synonyms": _WORDS,
                            },
                        },
                    },
                },
            },
        },
    },
}

INSTRUCTIONS = """You describe a database for people who will ask spoken questions about it.
For the data set, each table and each column you can explain, write:
- description: one short sentence saying what it holds (what a row is; units for numbers);
- synonyms: the words people would say for it in a question (plural nouns, everyday words, verbs such as
  "won" for a winner column); no table or column names in snake_case;
- examples (for the whole data set): up to 8 short questions a person would ask, naming real values shown.
Answer with JSON only, in the given schema. Leave a description empty when you cannot tell."""


def prompt(catalog: Catalog, model: SemanticModel) -> str:
    lines: list[str] = []
    for name, table in catalog.tables.items():
        tm = model.tables.get(name)
        if tm is not None and not tm.exposed:
            continue
        said = f" (said: {', '.join(tm.synonyms[:4])})" if tm and tm.synonyms else ""
        lines.append(f"Table {name}, {table.rows} rows{said}")
        for col in table.columns[:MAX_COLUMNS]:
            cm = tm.columns.get(col.name) if tm else None
            role = f" {cm.role}" if cm and cm.role else ""
            samples = [str(v)[:30] for v in (col.distinct or col.samples or [])[:3] if v is not None]
            shown = f" e.g. {', '.join(samples)}" if samples else ""
            lines.append(f"  {col.name} {col.type}{role}{shown}")
    return "\n".join(lines)


def ask(client: LlmClient, catalog: Catalog, model: SemanticModel) -> dict[str, Any]:
    """The LLM's one answer, parsed."""
    messages = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": prompt(catalog, model)},
    ]
    completion = client.chat(messages, schema=SCHEMA, schema_name="semantic_description")
    return completion.data or {}


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())[:MAX_TEXT]


def _add_words(have: list[str], new: Any) -> list[str]:
    out = list(have)
    seen = {w.lower() for w in have}
    added = 0
    for word in new if isinstance(new, list) else []:
        w = _clean(word).lower()
        if w and w not in seen and len(w) <= 60 and added < MAX_SYNONYMS:
            out.append(w)
            seen.add(w)
            added += 1
    return out


def apply(model: SemanticModel, answer: dict[str, Any]) -> SemanticModel:
    """A copy of `model` with the LLM's words added where the model has none (hand edits win)."""
    out = SemanticModel.from_dict(model.to_dict())
    out.description = out.description or _clean(answer.get("description"))
    if not out.examples:
        out.examples = [_clean(q) for q in answer.get("examples") or [] if _clean(q)][:MAX_EXAMPLES]
    for traw in answer.get("tables") or []:
        if not isinstance(traw, dict):
            continue
        tm = out.tables.get(str(traw.get("name")))
        if tm is None:
            continue  # a table the database does not have: never invented
        tm.description = tm.description or _clean(traw.get("description"))
        tm.synonyms = _add_words(tm.synonyms, traw.get("synonyms"))
        for craw in traw.get("columns") or []:
            if not isinstance(craw, dict):
                continue
            cm = tm.columns.get(str(craw.get("name")))
            if cm is None:
                continue
            cm.description = cm.description or _clean(craw.get("description"))
            cm.synonyms = _add_words(cm.synonyms, craw.get("synonyms"))
    return out


HEADER = (
    "# datavox semantic model, described once by an LLM (`datavox schema --describe`) and reviewed by you.\n"
    "# It is yours now: edit freely; `datavox schema --refresh` keeps every word written here.\n"
)


def render(model: SemanticModel) -> str:
    return HEADER + model.to_yaml()


def diff(old_text: str, new_text: str, path: Path) -> str:
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{path} (now)",
        tofile=f"{path} (described)",
        n=1,
    )
    return "".join(lines)


def summary(answer: dict[str, Any]) -> str:
    tables = [t for t in answer.get("tables") or [] if isinstance(t, dict)]
    return json.dumps({"tables": len(tables), "examples": len(answer.get("examples") or [])})
