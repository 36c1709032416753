"""The filters of a built query: the values the question names (alternatives of one column, exclusions,
a named one's siblings) and its years, each a WHERE condition on the table the planner's path reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from datavox.brain.frame import Frame
from datavox.brain.joins import Edge
from datavox.brain.reading import Reading
from datavox.brain.shape import Shape, plural_label

if TYPE_CHECKING:  # the builder calls these; they only need its type
    from datavox.brain.sqlbuild import Builder


def value_filters(
    b: Builder, frame: Frame, r: Reading, compare_groups: list[tuple[str, str]], fact_alias: str, shape: Shape
) -> None:
    """The named values as conditions, and said as the answer's filters or traits."""
    # Values of one column are alternatives ("in the UK or Malaysia"); different columns all apply.
    by_column: dict[tuple[str, str, tuple[Edge, ...]], list[str]] = {}
    excluded: set[tuple[str, str, tuple[Edge, ...]]] = set()
    said_as: dict[str, str] = {}  # a key value linked from a person's full name is said as the name
    for vm, path in r.values:
        if compare_groups and (vm.table, vm.column) == compare_groups[0]:
            continue
        sibling = vm.column in b.p.tm(vm.table).entity and len(path) == 1
        if r.target.table == vm.table and path == r.target.path and path and sibling:
            sibling_filter(b, r, vm.column, vm.value, path, fact_alias)
            shape.filters.append(vm.said or vm.value)
            continue
        by_column.setdefault((vm.table, vm.column, path), []).append(vm.value)
        said_as[vm.value] = vm.said or vm.value
        if vm.span in frame.excluded:
            excluded.add((vm.table, vm.column, path))
    for (table, column, path), values in by_column.items():
        alias = b.join(path)
        col = exp.column(column, table=alias)
        if len(values) == 1:
            cond: exp.Expr = exp.EQ(this=col, expression=exp.Literal.string(values[0]))
        else:
            cond = exp.In(this=col, expressions=[exp.Literal.string(v) for v in values])
        values = [said_as.get(v, v) for v in values]
        if (table, column, path) in excluded:
            # "airports outside the USA", "drivers other than Hamilton": every row but those.
            cond = exp.Not(this=cond)
            said = b.p.tm(table).synonyms
            kind = said[0] if said else table.replace("_", " ")
            values = [f"{plural_label(kind)} other than {' or '.join(values)}"]
        b.select = b.select.where(cond)
        tp = r.target.path
        if r.target.table is not None and len(path) > len(tp) and path[: len(tp)] == tp:
            # A trait of the counted rows ("Brazilian drivers"), said before them, not "for Brazilian".
            shape.traits.append(" or ".join(values))
        else:
            shape.filters.append(" or ".join(values))


def year_filter(b: Builder, frame: Frame, r: Reading, shape: Shape) -> None:
    """The years asked for ("in 2020", "from 2010 to 2015", "in the seasons he won") on the year column."""
    if frame.years is None or r.year_column is None:
        return
    ypath, ycol = r.year_column
    yalias = b.join(ypath)
    ycolumn = b.year_expr(ypath[-1].to_table if ypath else r.fact, ycol, yalias)
    y = frame.years
    if y.sub is not None:
        b.select = b.select.where(exp.In(this=ycolumn, query=exp.Subquery(this=y.sub)))
    elif y.values:
        b.select = b.select.where(exp.In(this=ycolumn, expressions=[exp.Literal.number(v) for v in y.values]))
    else:
        if y.lo is not None and y.lo == y.hi:
            b.select = b.select.where(exp.EQ(this=ycolumn, expression=exp.Literal.number(y.lo)))
        else:
            if y.lo is not None:
                b.select = b.select.where(exp.GTE(this=ycolumn, expression=exp.Literal.number(y.lo)))
            if y.hi is not None:
                b.select = b.select.where(exp.LTE(this=ycolumn.copy(), expression=exp.Literal.number(y.hi)))
    shape.when = ("in " if (y.lo == y.hi and y.lo) or y.values else "") + y.describe()


def sibling_filter(
    b: Builder, r: Reading, column: str, value: str, path: tuple[Edge, ...], fact_alias: str
) -> None:
    """ "Who was Max Verstappen's teammate?": the answer's rows are others that share the named one's
    other keys (same team, same year), not the named one itself."""
    own = path[0].from_column
    keys = b.p.sibling_keys(r.fact, own)
    tc = b.p.time_column(r.fact)
    if tc:
        keys.append(tc)
    inner, named = "sibling", "sibling_named"
    edge = path[0]
    # Uncorrelated, so the database computes the named one's keys once: (team, year) IN (SELECT ...).
    sub = (
        exp.select(*[exp.column(k, table=inner) for k in keys])
        .from_(exp.Table(this=exp.to_identifier(r.fact), alias=exp.TableAlias(this=exp.to_identifier(inner))))
        .join(
            exp.Table(
                this=exp.to_identifier(edge.to_table), alias=exp.TableAlias(this=exp.to_identifier(named))
            ),
            on=exp.EQ(this=exp.column(edge.to_column, table=named), expression=exp.column(own, table=inner)),
        )
        .where(exp.EQ(this=exp.column(column, table=named), expression=exp.Literal.string(value)))
    )
    cond = b.p.tm(r.fact).default_filter
    if cond:
        sub = sub.where(qualify(cond, inner))
    outer = [exp.column(k, table=fact_alias) for k in keys]
    left: exp.Expr = outer[0] if len(outer) == 1 else exp.Tuple(expressions=outer)
    b.select = b.select.where(exp.In(this=left, query=exp.Subquery(this=sub)))
    alias = b.join(path)
    b.select = b.select.where(
        exp.NEQ(this=exp.column(column, table=alias), expression=exp.Literal.string(value))
    )


def qualify(condition: str, alias: str) -> exp.Expr:
    """A condition written against one table, its columns qualified with that table's alias."""
    tree = sqlglot.parse_one(condition)
    for col in tree.find_all(exp.Column):
        if not col.table:
            col.set("table", exp.to_identifier(alias))
    return tree
