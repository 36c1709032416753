"""Names the speech recogniser should expect, taken from the database.

tiny.en has never heard most driver, team or circuit names ("Verstappen" comes out as "first up"). Whisper
takes "previous text" as a prompt, and a prompt listing the names fixes most of them. The names are the
most prominent rows of each table the semantic model marks with an `entity` column and a `prominence`
measure (drivers by race starts, constructors by wins, ...).
"""

from __future__ import annotations

import logging
from typing import Any

from datavox.config import Settings

log = logging.getLogger(__name__)


def _quote(name: str, kind: str) -> str:
    return f"`{name}`" if kind in ("mysql", "mariadb") else '"' + name.replace('"', '""') + '"'


def database_vocabulary(settings: Settings, per_table: int = 10, limit: int = 60) -> list[str]:
    """The names, most prominent first; empty when there is no database or semantic model yet."""
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
    lists: list[list[str]] = []
    try:
        for table, spec in model.tables.items():
            if not (spec.exposed and spec.entity and spec.prominence):
                continue
            col, order = _quote(spec.entity[0], db.kind), _quote(spec.prominence, db.kind)
            sql = (
                f"SELECT {col} FROM {_quote(table, db.kind)} WHERE {order} IS NOT NULL ORDER BY {order} DESC"
            )
            try:
                cur = con.cursor()
                cur.execute(sql)
                # People are what questions name most (drivers): more of them.
                rows = cur.fetchmany(per_table * 3 if spec.person else per_table)
            except Exception as exc:
                log.info("vocabulary: skipping %s: %s", table, exc)
                continue
            found = [str(r[0]) for r in rows if r and r[0]]
            # Interleave tables (two people per round): the recogniser's prompt keeps only the first ~30
            # names, and those should cover drivers, teams and circuits alike.
            lists.append(found if not spec.person else [])
            if spec.person:
                lists.append(found[0::2])
                lists.append(found[1::2])
    finally:
        con.close()
    names: list[str] = []
    seen: set[str] = set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for found in lists:
            if rank < len(found) and found[rank].lower() not in seen:
                seen.add(found[rank].lower())
                names.append(found[rank])
    return names[:limit]
