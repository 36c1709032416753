"""The rankings of a built query: the top names by a number (ties kept), the best placed, and the names whose
number passes a bound ("more than 50 wins")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from datavox.brain.build_totals import aggregate_expr
from datavox.brain.frame import Frame
from datavox.brain.reading import Reading
from datavox.brain.shape import Shape, output_name

if TYPE_CHECKING:  # the builder calls these; they only need its type
    from datavox.brain.sqlbuild import Builder


def top(
    b: Builder,
    frame: Frame,
    r: Reading,
    name_expr: exp.Expr,
    value_expr: exp.Expr,
    agg_kind: str,
    shape: Shape,
) -> None:
    limit = frame.top_n or 1
    desc = frame.order != "min"
    shape.per_row = bool(frame.hints)
    metric_alias = output_name(shape.value_label or "value")
    if r.column is not None and b.p.role(r.fact, r.column) == "rank" and frame.order == "min":
        best_placed(b, frame, r, name_expr, shape)
        return
    if r.target.table == r.fact and agg_kind == "column":
        # One row per thing already (a career total on the drivers table): no grouping needed.
        b.select = b.select.select(name_expr.as_("name"), value_expr.as_(metric_alias))
        b.select = b.select.where(exp.Not(this=exp.Is(this=value_expr.copy(), expression=exp.Null())))
        b.select = b.select.order_by(exp.Ordered(this=value_expr.copy(), desc=desc))
    else:
        agg = aggregate_expr(value_expr, agg_kind, frame)
        b.select = b.select.select(name_expr.as_("name"), agg.as_(metric_alias))
        b.select = b.select.group_by(*b.grouping(r, name_expr))
        if frame.single and r.year_column is None:
            r.year_column = b.p.year_column(r.fact)
        if frame.single and r.year_column is not None:
            # "The most wins in a single season": one row per name and season, the season said too.
            ypath, ycol = r.year_column
            yalias = b.join(ypath)
            year = b.year_expr(ypath[-1].to_table if ypath else r.fact, ycol, yalias)
            b.select = b.select.select(year.as_("year")).group_by(year.copy())
        b.select = b.select.order_by(exp.Ordered(this=exp.column(metric_alias), desc=desc))
    b.select = b.select.limit(limit)
    shape.kind, shape.name_column, shape.value_column, shape.limit = "top", "name", metric_alias, limit
    if limit == 1 and not frame.top_n and not frame.single:
        with_ties(b, frame, metric_alias)


def with_ties(b: Builder, frame: Frame, metric: str) -> None:
    """ "Which state has the fewest airports?": every name tied for the best, not one picked at random."""
    inner = b.select.copy()
    inner.set("order", None)
    inner.set("limit", None)

    def sub(alias: str) -> exp.Subquery:
        return exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias)))

    best = (exp.Max if frame.order != "min" else exp.Min)(this=exp.column(metric))
    b.select = (
        exp.select("*")
        .from_(sub("ranked"))
        .where(
            exp.EQ(this=exp.column(metric), expression=exp.Subquery(this=exp.select(best).from_(sub("best"))))
        )
        .order_by(exp.column("name"))
        .limit(10)
    )


def best_placed(b: Builder, frame: Frame, r: Reading, name_expr: exp.Expr, shape: Shape) -> None:
    """ "The best placed driver for Mercedes in 2019": each name's best (smallest) position, and every
    name that shares the best of all (a tie is said, not broken at random)."""
    assert r.column is not None
    col = exp.column(r.column, table=b.aliases[()])
    best_of_all = b.select.copy().select(exp.Min(this=col.copy()))
    best_of_all.set("limit", None)
    b.select = b.select.select(name_expr.as_("name"), exp.Min(this=col.copy()).as_("best_position"))
    b.select = b.select.group_by(*b.grouping(r, name_expr))
    if frame.top_n:
        b.select = b.select.order_by(exp.column("best_position"), name_expr.copy()).limit(frame.top_n)
    else:
        b.select = b.select.having(
            exp.EQ(this=exp.Min(this=col.copy()), expression=exp.Subquery(this=best_of_all))
        )
        b.select = b.select.order_by(name_expr.copy()).limit(10)
    shape.kind, shape.name_column, shape.value_column = "list", "name", "best_position"


def threshold(
    b: Builder,
    frame: Frame,
    r: Reading,
    name_expr: exp.Expr,
    value_expr: exp.Expr,
    agg_kind: str,
    shape: Shape,
) -> None:
    """ "Which drivers have more than 50 wins?": the names whose number passes the bound."""
    assert frame.threshold is not None
    b.bounded = True
    op, n = frame.threshold
    ops = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}
    number = exp.Literal.number(int(n) if n.is_integer() else n)
    metric = output_name(shape.value_label or "value")
    if r.target.table == r.fact and agg_kind == "column":
        b.select = b.select.select(name_expr.as_("name"), value_expr.as_(metric))
        b.select = b.select.where(ops[op](this=value_expr.copy(), expression=number))
    elif frame.single and agg_kind == "column":
        # "more than 400 points in a season": a bound on each row (a season's total), not on the sum of
        # them; each name once, with its best.
        best = exp.Max if op in (">", ">=") else exp.Min
        b.select = b.select.where(ops[op](this=value_expr.copy(), expression=number))
        b.select = b.select.select(name_expr.as_("name"), best(this=value_expr.copy()).as_(metric))
        b.select = b.select.group_by(name_expr.copy())
    else:
        agg = aggregate_expr(value_expr, agg_kind, frame)
        b.select = b.select.select(name_expr.as_("name"), agg.as_(metric)).group_by(*b.grouping(r, name_expr))
        b.select = b.select.having(ops[op](this=agg.copy(), expression=number))
    b.select = b.select.order_by(exp.Ordered(this=exp.column(metric), desc=True)).limit(100)
    shape.kind, shape.name_column, shape.value_column = "list", "name", metric
