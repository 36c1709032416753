"""Names the speech recogniser should expect, taken from the database.

tiny.en has never heard most driver, team or circuit names ("Verstappen" comes out as "first up"). Whisper
takes "previous text" as a prompt, and a prompt listing the names fixes most of them. The names are the
most prominent people (tables the semantic model marks `person`, with an `entity` column and a
`prominence` measure: drivers by race starts).
"""

from __future__ import annotations

import logging
from typing import Any

from datavox.config import Settings

log = logging.getLogger(__name__)


def _quote(name: str, kind: str) -> str:
    return f"`{name}`" if kind in ("mysql", "mariadb") else '"' + name.replace('"', '""') + '"'


def database_vocabulary(settings: Settings, limit: int = 30) -> list[str]:
    """The names of people (drivers), most prominent first; empty without a database or semantic model.

    Measured on spoken F1 questions with tiny.en: no prompt 9/12 right (every "Verstappen" wrong); the
    30 most prominent drivers 11/12; drivers mixed with teams, circuits and countries 7–8/12 ("Who won"
    became "Hülken"). People's names are the rare words; team and place names Whisper mostly knows.
    """
    try:
        from datavox.data.connect import connect, parse_url
        from datavox.data.semantic import load_semantic_model, semantic_path

        path = semantic_path(settings)
        if not path.is_file():
            return []
        model = load_semantic_model(path)
        db = parse_url(settings.database.url)
        con: Any = connect(db, read_only=True)
    except Exception as exc:  # no database yet, no semantic model: speech still works, names less well
        log.info("no vocabulary for speech recognition: %s", exc)
        return []
    names: list[str] = []
    try:
        for table, spec in model.tables.items():
            if not (spec.exposed and spec.person and spec.entity and spec.prominence):
                continue
            col, order = _quote(spec.entity[0], db.kind), _quote(spec.prominence, db.kind)
            sql = (
                f"SELECT {col} FROM {_quote(table, db.kind)} WHERE {order} IS NOT NULL ORDER BY {order} DESC"
            )
            try:
                cur = con.cursor()
                cur.execute(sql)
                names += [str(r[0]) for r in cur.fetchmany(limit) if r and r[0]]
            except Exception as exc:
                log.info("vocabulary: skipping %s: %s", table, exc)
    finally:
        con.close()
    seen: set[str] = set()
    unique = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique[:limit]
