"""The totals of a built query: counts, sums and averages, one per year or team, and named values compared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from datavox.brain.frame import Frame
from datavox.brain.reading import Reading
from datavox.brain.shape import Shape, column_label, output_name

if TYPE_CHECKING:  # the builder calls these; they only need its type
    from datavox.brain.sqlbuild import Builder


def aggregate(
    b: Builder,
    frame: Frame,
    r: Reading,
    value_expr: exp.Expr,
    agg_kind: str,
    target_alias: str | None,
    shape: Shape,
) -> None:
    alias = output_name(shape.value_label or "value")
    if r.target.table is not None and frame.qword == "how_many" and agg_kind == "column":
        # "How many drivers have won a title?": rows of the noun's table that have some of the measure.
        b.select = b.select.where(exp.GT(this=value_expr, expression=exp.Literal.number(0)))
        if r.target.table == r.fact:
            expr: exp.Expr = exp.Count(this=exp.Star())
        else:
            key = r.target.path[-1].to_column if r.target.path else "id"
            expr = exp.Count(this=exp.Distinct(expressions=[exp.column(key, table=target_alias)]))
        shape.value_label = b.target_label(r)
        alias = output_name(shape.value_label)
    elif r.target.table is not None and r.target.table != r.fact and isinstance(value_expr, exp.Count):
        # "How many drivers ...": distinct rows of the noun's table, not rows of the facts.
        key = r.target.path[-1].to_column if r.target.path else "id"
        expr = exp.Count(this=exp.Distinct(expressions=[exp.column(key, table=target_alias)]))
        shape.value_label = b.target_label(r)
        alias = output_name(shape.value_label)
    elif frame.qword == "how_many" and r.target.column is not None and isinstance(value_expr, exp.Count):
        # "How many countries are there?": the distinct values of the column the noun names.
        table = target_alias if r.target.table is not None else b.aliases[()]
        expr = exp.Count(this=exp.Distinct(expressions=[exp.column(r.target.column, table=table)]))
        shape.value_label = column_label(r.target.column)
        alias = output_name(shape.value_label)
    elif frame.agg == "avg" and not isinstance(value_expr, exp.Count):
        expr = exp.Avg(this=value_expr)
        shape.kind = "avg"
    else:
        expr = aggregate_expr(value_expr, agg_kind, frame)
    b.select = b.select.select(expr.as_(alias))
    shape.value_column = alias
    if shape.kind != "avg":
        shape.kind = (
            "yesno" if frame.qword == "yesno" else ("count" if isinstance(expr, exp.Count) else "sum")
        )


def aggregate_expr(value_expr: exp.Expr, agg_kind: str, frame: Frame) -> exp.Expr:
    if isinstance(value_expr, exp.Count):
        return value_expr
    if frame.hints and agg_kind == "column" and frame.order:
        # "the heaviest penguin", "the longest circuit": each row's own value, the largest (or smallest).
        return (exp.Max if frame.order == "max" else exp.Min)(this=value_expr)
    if frame.agg == "avg" and agg_kind != "count":
        return exp.Avg(this=value_expr)
    if agg_kind in ("avg", "min", "max"):
        return {"avg": exp.Avg, "min": exp.Min, "max": exp.Max}[agg_kind](this=value_expr)
    return exp.Sum(this=value_expr)


def per_group(
    b: Builder, frame: Frame, r: Reading, value_expr: exp.Expr, agg_kind: str, shape: Shape
) -> None:
    """One row per year (or team): the number for each, in time order or largest first."""
    assert r.per is not None
    path, column = r.per
    alias = b.join(path)
    table = path[-1].to_table if path else r.fact
    key = b.year_expr(table, column, alias)
    agg = aggregate_expr(value_expr, agg_kind, frame)
    metric = output_name(shape.value_label or "value")
    name = "year" if frame.per in ("year", "season") else "name"
    b.select = b.select.select(key.as_(name), agg.as_(metric)).group_by(key.copy())
    if frame.order:
        # "Which year had the most precipitation?": the best year, and every year tied with it.
        best = (exp.Max if frame.order == "max" else exp.Min)(this=exp.column(metric))
        grouped = b.select

        def sub(name_: str) -> exp.Subquery:
            return exp.Subquery(this=grouped.copy(), alias=exp.TableAlias(this=exp.to_identifier(name_)))

        top = exp.select(best).from_(sub("all_years"))
        b.select = (
            exp.select("*")
            .from_(sub("years"))
            .where(exp.EQ(this=exp.column(metric), expression=exp.Subquery(this=top)))
            .order_by(exp.column(name))
            .limit(10)
        )
        shape.kind, shape.name_column, shape.value_column = "top", name, metric
        return
    if name == "year":
        b.select = b.select.order_by(exp.column(name))
    else:
        b.select = b.select.order_by(exp.Ordered(this=exp.column(metric), desc=True))
    b.select = b.select.limit(200)
    shape.kind, shape.name_column, shape.value_column = "per", name, metric
    shape.per_label = frame.per


def compare_values(frame: Frame, r: Reading) -> list[tuple[str, str]]:
    if not frame.compare:
        return []
    seen: dict[tuple[str, str], int] = {}
    for vm, _ in r.values:
        seen[(vm.table, vm.column)] = seen.get((vm.table, vm.column), 0) + 1
    return [k for k, n in seen.items() if n >= 2]


def compare(
    b: Builder,
    frame: Frame,
    r: Reading,
    groups: list[tuple[str, str]],
    value_expr: exp.Expr,
    shape: Shape,
) -> None:
    table, column = groups[0]
    names = [vm.value for vm, _ in r.values if (vm.table, vm.column) == (table, column)]
    path = next(p for vm, p in r.values if (vm.table, vm.column) == (table, column))
    alias = b.join(path)
    name_expr = exp.column(column, table=alias)
    b.select = b.select.where(exp.In(this=name_expr, expressions=[exp.Literal.string(n) for n in names]))
    metric_alias = output_name(shape.value_label or "value")
    if isinstance(value_expr, exp.Count) or r.target.table != r.fact:
        agg = value_expr if isinstance(value_expr, exp.Count) else exp.Sum(this=value_expr)
    else:
        agg = exp.Sum(this=value_expr)
    b.select = b.select.select(name_expr.as_("name"), agg.as_(metric_alias))
    b.select = b.select.group_by(*b.grouping(r, name_expr))
    desc = frame.order != "min"
    b.select = b.select.order_by(exp.Ordered(this=exp.column(metric_alias), desc=desc))
    shape.kind, shape.name_column, shape.value_column = "compare", "name", metric_alias
