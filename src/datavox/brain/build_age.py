"""Age questions of a built query: "the youngest driver" (the latest birth date) and "the youngest winner"
(the least age at the event, which needs the event's date or year)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from datavox.brain.frame import Frame
from datavox.brain.reading import Reading
from datavox.brain.shape import Shape

if TYPE_CHECKING:  # the builder calls these; they only need its type
    from datavox.brain.sqlbuild import Builder


def by_age(
    b: Builder,
    frame: Frame,
    r: Reading,
    name_expr: exp.Expr,
    target_alias: str,
    fact_alias: str,
    shape: Shape,
) -> None:
    """ "The youngest driver": the latest birth date; "the youngest winner": the least age at the event
    (its date, or its year), over every event the filters keep."""
    assert r.target.table is not None
    birth_name = b.p.birth_column(r.target.table)
    assert birth_name is not None
    birth = exp.column(birth_name, table=target_alias)
    young = frame.age == "young"
    b.select = b.select.select(name_expr.as_("name"), birth.copy().as_(birth_name))
    b.select = b.select.where(exp.Not(this=exp.Is(this=birth.copy(), expression=exp.Null())))
    event = event_time(b, r, fact_alias) if r.target.table != r.fact else None
    if event is None:
        b.select = b.select.order_by(exp.Ordered(this=birth.copy(), desc=young))
    else:
        when, is_date = event
        if is_date:
            age: exp.Expr = exp.DateDiff(this=when.copy(), expression=birth.copy(), unit=exp.var("DAY"))
        else:
            age = exp.Sub(this=when.copy(), expression=exp.Year(this=birth.copy()))
        b.select = b.select.select(when.copy().as_("at"))
        b.select = b.select.order_by(exp.Ordered(this=age, desc=not young))
    b.select = b.select.limit(1)
    shape.kind, shape.name_column = "first", "name"


def event_time(b: Builder, r: Reading, fact_alias: str) -> tuple[exp.Expr, bool] | None:
    """When the fact happened: a date of the fact or of the table its year comes from, else its year."""
    for c in b.p.catalog.tables[r.fact].columns:
        if c.is_temporal and "birth" not in c.name.lower():
            return exp.column(c.name, table=fact_alias), True
    if r.year_column is None:
        r.year_column = b.p.year_column(r.fact)
    if r.year_column is None:
        return None
    ypath, ycol = r.year_column
    table = ypath[-1].to_table if ypath else r.fact
    yalias = b.join(ypath)
    for c in b.p.catalog.tables[table].columns:
        if c.is_temporal and "birth" not in c.name.lower():
            return exp.column(c.name, table=yalias), True
    # A year alone: a race's date is better, when a table of dated events shares the fact's keys.
    for edge in b.p.graph.out.get(r.fact, []):
        ref = b.p.catalog.tables.get(edge.to_table)
        if edge.forward and ref is not None:
            dated = [c.name for c in ref.columns if c.is_temporal and "birth" not in c.name.lower()]
            if dated and b.p.time_column(edge.to_table):
                return exp.column(dated[0], table=b.join((edge,))), True
    # Events dated elsewhere under the same year (a season ends with its last race): the last date.
    year_col = exp.column(ycol, table=yalias)
    for tname, t in b.p.catalog.tables.items():
        if tname in (r.fact, table) or not b.p.tm(tname).exposed or b.p.time_column(tname) != ycol:
            continue
        dated = [c.name for c in t.columns if c.is_temporal and "birth" not in c.name.lower()]
        if dated:
            last = (
                exp.select(exp.Max(this=exp.column(dated[0], table="ev")))
                .from_(
                    exp.Table(
                        this=exp.to_identifier(tname), alias=exp.TableAlias(this=exp.to_identifier("ev"))
                    )
                )
                .where(exp.EQ(this=exp.column(ycol, table="ev"), expression=year_col))
            )
            return exp.Subquery(this=last), True
    return b.year_expr(table, ycol, yalias), False
