"""Every prompt datavox sends to a language model, in one place.

The seed system makes three calls per turn, each with its own prompt: classify the turn (STATISTICAL or
CONVERSATIONAL), rewrite a follow-up into a standalone question, then write the SQL. datavox keeps those three
instructions as separate sections below, but sends them together in ONE call whose structured output carries
all three results (`TURN_SCHEMA`), so a turn costs one round trip instead of three. The speakable answer is
then filled in from the rows with the model's template (`ANSWER_STYLE`), without a second call; only when the
template does not fit the rows is `PHRASE_SYSTEM` used for a small second call.

The system prompt holds only what does not change between turns (instructions), so providers that cache
prompt prefixes can reuse it; the schema, values, examples and conversation go into the user message.
"""

from __future__ import annotations

from typing import Any

# -- the seed's three steps, as sections of one prompt ----------------------------------------------------

INTENT = """\
Intent. Classify the user's turn:
- STATISTICAL: it needs the data (counts, totals, who/which/when/where, lists, rankings, comparisons, facts
  about rows of the database), including short follow-ups such as "and in 2023?" or "what about her?".
- CONVERSATIONAL: small talk that needs no data: greetings, thanks, goodbyes, "what can you do?", "who are
  you?", remarks about the conversation itself."""

REWRITE = """\
Follow-ups. Rewrite the user's turn into a standalone question that can be understood without the
conversation: replace pronouns ("he", "she", "they", "them", "it") and references ("that year", "that race",
"the same team") with the names and values they refer to in earlier turns and results, and complete elliptic
turns ("And in 2023?", "What about Carlos Sainz?") with the rest of the previous question. A turn that already
stands alone is kept as it is. Never invent a reference the conversation does not contain."""

SQL_RULES = """\
SQL. Write ONE read-only SELECT statement in the {dialect} SQL dialect that answers the standalone question:
- Use only the tables and columns listed under "Schema"; join them as listed under "Joins".
- When the question names something listed under "Matched values", filter on exactly that column and value
  (prefer the key column shown for it over the display name).
- Select only the columns the answer needs, each with a short snake_case alias, and no SELECT *. For "who" and
  "which" questions return the display name, not only a key. Put the main answer in the first column.
- Aggregate in SQL (COUNT, SUM, AVG, MAX); for "most"/"least" questions ORDER BY the aggregate and LIMIT to
  the top rows (keep ties in mind). Keep result sets small: LIMIT 20 unless the user asks for a full list.
- No data-changing statements, no comments, no parameters, no multiple statements."""

ANSWER_STYLE = """\
Answer. The answer is spoken aloud, so write it as one or two short, natural sentences: no markdown, no
lists, no tables, no SQL, no column names, no units the data does not give. Say only what the result rows will
support; never guess a number or a name.
- answer_template: the sentence to say, with placeholders the program fills in from the result rows:
  {{alias}} is the value of that column in the first row, {{alias*}} is all values of that column joined
  as "A, B and C", {{row_count}} is the number of rows.
  Example: "{{driver}} won the title with {{points}} points."
- empty_answer: what to say when no rows come back, e.g. "I couldn't find a race in Monaco in 2035."
- chart: "bar" when the result compares a few categories by a number, "line" for a number over time,
  otherwise "none"."""

SMALL_TALK = """\
Small talk. For a CONVERSATIONAL turn, sql is null and answer_template is your whole reply, without
placeholders: friendly, one or two sentences, and say what the user can ask about this data with one concrete
example question drawn from the schema. Do not claim abilities beyond answering questions about the data."""

SYSTEM = """\
You are datavox, a voice assistant that answers spoken questions about a database. People talk to you, so
questions may be loosely phrased and names may be misheard; rely on the matched values. Reply with one JSON
object only, with these fields in this order: intent, standalone_question, sql, answer_template, empty_answer,
chart.

{intent}

{rewrite}

{sql_rules}

{answer_style}

{small_talk}"""


# What differs between the SQL dialects, said once so small models do not mix them up (sqlglot names).
DIALECT_NOTES: dict[str, str] = {
    "duckdb": "DuckDB: LIMIT n; ILIKE for case-insensitive matching; strings in single quotes.",
    "sqlite": "SQLite: LIMIT n; no ILIKE (use LOWER(x) LIKE ...); strftime('%Y', d) for years.",
    "postgres": "PostgreSQL: LIMIT n; ILIKE for case-insensitive matching; EXTRACT(YEAR FROM d) for years.",
    "mysql": "MySQL/MariaDB: LIMIT n; backticks only if a name needs quoting; YEAR(d) for years.",
    "tsql": "SQL Server: SELECT TOP (n) instead of LIMIT; YEAR(d) for years; square brackets to quote names.",
}


def system_prompt(dialect: str) -> str:
    """The stable instructions of the one-call turn."""
    note = DIALECT_NOTES.get(dialect, "")
    return SYSTEM.format(
        intent=INTENT,
        rewrite=REWRITE,
        sql_rules=SQL_RULES.format(dialect=dialect) + (f"\n- {note}" if note else ""),
        answer_style=ANSWER_STYLE.format(),
        small_talk=SMALL_TALK,
    )


# The structured output of one turn. Strict JSON schema: every field required, nullable where it may be empty.
TURN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["STATISTICAL", "CONVERSATIONAL"]},
        "standalone_question": {"type": "string"},
        "sql": {"type": ["string", "null"]},
        "answer_template": {"type": "string"},
        "empty_answer": {"type": ["string", "null"]},
        # A plain string enum ("none", not null): every structured-output implementation handles it.
        "chart": {"type": "string", "enum": ["bar", "line", "none"]},
    },
    "required": ["intent", "standalone_question", "sql", "answer_template", "empty_answer", "chart"],
    "additionalProperties": False,
}
TURN_SCHEMA_NAME = "datavox_turn"


def turn_user_message(
    *,
    question: str,
    dialect: str,
    schema: str,
    values: str,
    examples: str,
    history: str,
    suggestions: str = "",
) -> str:
    """The per-turn part: linked schema, matched values, examples, conversation, then the turn itself."""
    parts = [f"Dialect: {dialect}"]
    if suggestions:  # nothing in the schema matched: likely small talk, which suggests questions
        parts.append(f"Questions this data can answer:\n{suggestions}")
    parts.append(f"Schema (only the part relevant to this turn):\n{schema}")
    parts.append(f"Matched values (names in the question found in the database):\n{values or '(none)'}")
    if examples:
        parts.append(f"Verified examples (question -> SQL):\n{examples}")
    parts.append(f"Conversation so far:\n{history or '(this is the first turn)'}")
    parts.append(f"User turn: {question}")
    return "\n\n".join(parts)


RETRY = """\
That SQL failed: {error}
Fix it and reply with the whole JSON object again (same fields). Use only the listed tables and columns, in
the {dialect} dialect."""


def retry_message(error: str, dialect: str) -> str:
    """Sent after a guard or database error; the failed reply stays in the conversation before it."""
    return RETRY.format(error=error, dialect=dialect)


# -- the optional second call: phrase the answer from the rows --------------------------------------------

PHRASE_SYSTEM = """\
You phrase the spoken answer of a voice assistant. Given a question and the rows the database returned,
answer in one or two short, natural sentences to be read aloud: no markdown, no lists, no SQL, no column
names. Use only what the rows say; if they do not answer the question, say so plainly."""


def phrase_user_message(question: str, columns: list[str], rows: list[list[Any]], truncated: bool) -> str:
    shown = rows[:10]
    lines = [" | ".join(columns)] + [" | ".join("" if c is None else str(c) for c in row) for row in shown]
    more = (
        f"\n({len(rows)} rows{' or more' if truncated else ''}; the first {len(shown)} shown)"
        if len(rows) > len(shown) or truncated
        else ""
    )
    return f"Question: {question}\n\nRows:\n" + "\n".join(lines) + more


# -- the cloud realtime model (realtime.engine = azure | openai) -------------------------------------------

REALTIME_TOOLS = """\
You are datavox, a voice assistant that answers spoken questions about a database. Speak briefly and
naturally: one or two short sentences, no lists, no SQL, no column names.
- For every question that needs the data (counts, totals, who/which/when/where, rankings, comparisons,
  follow-ups such as "and in 2023?"), call the query_database tool with the question rewritten to stand
  alone (replace "he", "that year", "the same team" with what they refer to). Never answer such a question
  from memory, and never invent a number or a name.
- When the tool returns, say its "answer" in your own words, keeping every number and name it gives. If it
  returns an "error", say plainly that you could not answer and suggest rephrasing. If it returns
  "clarify", the question was unclear: ask the user that question, and do not answer.
- For small talk (greetings, thanks, "what can you do?") answer yourself in one friendly sentence and offer
  an example question about the data."""

REALTIME_CLASSIFY = """\
You are datavox, a voice assistant that answers spoken questions about a database. Speak briefly and
naturally: one or two short sentences, no lists, no SQL, no column names. When a response comes with data
from the database, say what the data says, keeping every number and name; never invent one. Without data,
answer small talk in one friendly sentence and offer an example question about the data."""


def realtime_instructions(orchestration: str = "tools") -> str:
    """The cloud realtime model's instructions: `tools` (it calls query_database) or `classify` (datavox
    classifies each turn and hands the model the data)."""
    return REALTIME_TOOLS if orchestration == "tools" else REALTIME_CLASSIFY


def realtime_data_instructions(question: str, answer: str, error: str | None) -> str:
    """Instructions for one `response.create` in classify mode: the data fetched for the user's turn."""
    said = f"could not be answered ({error})" if error else answer
    return f"{REALTIME_CLASSIFY}\n\nThe user asked: {question}\nDATA: {said}"
