"""The columns asked for of the rows a ranking puts first: "the id and last name of the driver with the most
races" selects `driverId, surname` of the ranked rows (ties kept), not the ranking's name and count."""

from __future__ import annotations

from sqlglot import exp


def top_projection(select: exp.Select, projection: list[str], alias: str) -> exp.Select | None:
    """The ranking `select` (grouped, maybe wrapped for ties) answering with `projection`'s columns of the
    table at `alias`; None when the query is no grouped ranking."""
    select = select.copy()
    inner = select.find(exp.Subquery)
    wrapped = inner is not None and select.args.get("where") is not None
    ranking = inner.this if wrapped and inner is not None else select
    if not isinstance(ranking, exp.Select) or ranking.args.get("group") is None:
        return None
    cols = [exp.column(c, table=alias) for c in projection]
    names = [f"asked_{i}" for i in range(len(cols))]
    for col, name in zip(cols, names, strict=True):
        ranking.select(col.as_(name), copy=False)
        _group_once(ranking, col)
    outer = [exp.column(n).as_(c) for n, c in zip(names, projection, strict=True)]
    if not wrapped:
        top = exp.TableAlias(this=exp.to_identifier("top"))
        return exp.select(*outer).from_(exp.Subquery(this=ranking, alias=top))
    for sub in select.find_all(exp.Subquery):  # the tie's subquery ranks the same rows: grouped the same
        if sub is not inner and isinstance(sub.this, exp.Select) and sub.this.args.get("group") is not None:
            for col in cols:
                _group_once(sub.this, col)
    select.set("expressions", outer)
    return select


def _group_once(select: exp.Select, col: exp.Expr) -> None:
    group = select.args.get("group")
    if group is None or col.sql() not in {g.sql() for g in group.expressions}:
        select.group_by(col.copy(), copy=False)
