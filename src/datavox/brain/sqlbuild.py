"""A reading of a question as one SELECT, built as a sqlglot expression and written in the target dialect.

Joins go out from the fact table along the paths the planner found; each table reached by a different path
gets its own alias. Measure filters and default filters of the semantic model are parsed with sqlglot and
their columns qualified, never pasted as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from datavox.brain import ranked
from datavox.brain.joins import Edge
from datavox.brain.parse import Frame
from datavox.brain.plan import Planner, Reading
from datavox.brain.vocab import words_of


@dataclass
class Shape:
    """What the query computes, for the spoken answer."""

    kind: str  # value | list | count | sum | avg | top | first | rank | compare | when | yesno
    value_label: str = ""  # what the number counts ("race wins", "points")
    target_label: str = ""  # what the names are ("driver")
    filters: list[str] = field(default_factory=list)  # spoken filters: the values named
    when: str = ""  # the years, said: "in 2020", "from 2010 to 2015"
    traits: list[str] = field(default_factory=list)  # values that describe the answer's rows: "Brazilian"
    name_column: str = ""  # output column holding names
    value_column: str = ""  # output column holding the number
    limit: int | None = None
    per_label: str = ""  # what a breakdown is by ("year", "team")
    per_row: bool = False  # a property of each row ("the heaviest"): said "with a body mass of 6300"


_COMPARE: dict[str, type[exp.Binary]] = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}


class Builder:
    def __init__(self, planner: Planner, dialect: str) -> None:
        self.p = planner
        self.dialect = dialect
        self.aliases: dict[tuple[Edge, ...], str] = {}
        self.used_names: set[str] = set()
        self.select = exp.Select()
        self._bounded = False  # the question's "more than N" is in the query

    # -- joins ---------------------------------------------------------------------------------------------
    def _alias_for(self, table: str) -> str:
        name = table
        n = 2
        while name in self.used_names:
            name = f"{table}_{n}"
            n += 1
        self.used_names.add(name)
        return name

    def join(self, path: tuple[Edge, ...]) -> str:
        """The alias of the table at the end of `path`, joining whatever is missing on the way."""
        alias = self.aliases[()]
        for i in range(len(path)):
            prefix = path[: i + 1]
            if prefix in self.aliases:
                alias = self.aliases[prefix]
                continue
            edge = path[i]
            new = self._alias_for(edge.to_table)
            cond = exp.EQ(
                this=exp.column(edge.to_column, table=new),
                expression=exp.column(edge.from_column, table=alias),
            )
            self.select = self.select.join(
                exp.Table(this=exp.to_identifier(edge.to_table), alias=_table_alias(new, edge.to_table)),
                on=cond,
            )
            self.aliases[prefix] = new
            self._default_filter(edge.to_table, new)
            alias = new
        return alias

    def _default_filter(self, table: str, alias: str) -> None:
        cond = self.p.tm(table).default_filter
        if cond:
            self.select = self.select.where(qualify(cond, alias))

    # -- the query -----------------------------------------------------------------------------------------
    def build(self, frame: Frame, r: Reading) -> tuple[str, Shape]:
        fact_alias = self._alias_for(r.fact)
        self.aliases[()] = fact_alias
        self.select = self.select.from_(
            exp.Table(this=exp.to_identifier(r.fact), alias=_table_alias(fact_alias, r.fact))
        )
        self._default_filter(r.fact, fact_alias)
        shape = Shape(kind="list")
        rank_col = self.p._rank_column(r.fact, r.column)
        use_rank = rank_col is not None and (frame.ordinal is not None)
        # "Where did Ferrari finish in the championship?": the rank is the answer, not a filter on winners.
        asks_rank = rank_col is not None and frame.qword == "where" and r.target.column is None

        # Filters: the measure's own condition (unless an ordinal replaces it), values, years.
        measure = self.p.measure(r.measure) if r.measure else None
        if measure is not None and measure.filter and not use_rank and not asks_rank:
            self.select = self.select.where(qualify(measure.filter, fact_alias))
        if use_rank and rank_col is not None:
            self.select = self.select.where(
                exp.EQ(
                    this=exp.column(rank_col, table=fact_alias), expression=exp.Literal.number(frame.ordinal)
                )
            )
        if r.column is not None and self.p.role(r.fact, r.column) == "flag":
            self.select = self.select.where(exp.column(r.column, table=fact_alias))
        compare_groups = self._compare_values(frame, r)
        # Values of one column are alternatives ("in the UK or Malaysia"); different columns all apply.
        by_column: dict[tuple[str, str, tuple[Edge, ...]], list[str]] = {}
        excluded: set[tuple[str, str, tuple[Edge, ...]]] = set()
        said_as: dict[str, str] = {}  # a key value linked from a person's full name is said as the name
        for vm, path in r.values:
            if compare_groups and (vm.table, vm.column) == compare_groups[0]:
                continue
            sibling = vm.column in self.p.tm(vm.table).entity and len(path) == 1
            if r.target.table == vm.table and path == r.target.path and path and sibling:
                self._sibling(r, vm.column, vm.value, path, fact_alias)
                shape.filters.append(vm.said or vm.value)
                continue
            by_column.setdefault((vm.table, vm.column, path), []).append(vm.value)
            said_as[vm.value] = vm.said or vm.value
            if vm.span in frame.excluded:
                excluded.add((vm.table, vm.column, path))
        for (table, column, path), values in by_column.items():
            alias = self.join(path)
            col = exp.column(column, table=alias)
            if len(values) == 1:
                cond: exp.Expr = exp.EQ(this=col, expression=exp.Literal.string(values[0]))
            else:
                cond = exp.In(this=col, expressions=[exp.Literal.string(v) for v in values])
            values = [said_as.get(v, v) for v in values]
            if (table, column, path) in excluded:
                # "airports outside the USA", "drivers other than Hamilton": every row but those.
                cond = exp.Not(this=cond)
                said = self.p.tm(table).synonyms
                kind = said[0] if said else table.replace("_", " ")
                values = [f"{plural_label(kind)} other than {' or '.join(values)}"]
            self.select = self.select.where(cond)
            tp = r.target.path
            if r.target.table is not None and len(path) > len(tp) and path[: len(tp)] == tp:
                # A trait of the counted rows ("Brazilian drivers"), said before them, not "for Brazilian".
                shape.traits.append(" or ".join(values))
            else:
                shape.filters.append(" or ".join(values))
        if frame.years is not None and r.year_column is not None:
            ypath, ycol = r.year_column
            yalias = self.join(ypath)
            ycolumn = self._year_expr(ypath[-1].to_table if ypath else r.fact, ycol, yalias)
            y = frame.years
            if y.sub is not None:
                self.select = self.select.where(exp.In(this=ycolumn, query=exp.Subquery(this=y.sub)))
            elif y.values:
                self.select = self.select.where(
                    exp.In(this=ycolumn, expressions=[exp.Literal.number(v) for v in y.values])
                )
            else:
                if y.lo is not None and y.lo == y.hi:
                    self.select = self.select.where(exp.EQ(this=ycolumn, expression=exp.Literal.number(y.lo)))
                else:
                    if y.lo is not None:
                        self.select = self.select.where(
                            exp.GTE(this=ycolumn, expression=exp.Literal.number(y.lo))
                        )
                    if y.hi is not None:
                        self.select = self.select.where(
                            exp.LTE(this=ycolumn.copy(), expression=exp.Literal.number(y.hi))
                        )
            shape.when = ("in " if (y.lo == y.hi and y.lo) or y.values else "") + y.describe()

        value_expr, value_label, agg_kind = self._value(frame, r, fact_alias, measure)
        shape.value_label = value_label
        target_alias, name_expr = self._target(r, fact_alias)
        shape.target_label = self._target_label(r)

        if frame.threshold is not None and name_expr is not None and not frame.agg:
            self._threshold(frame, r, name_expr, value_expr, agg_kind, shape)
        elif frame.threshold is not None and name_expr is not None and frame.qword == "how_many":
            # "How many drivers have more than 100 podiums?": count the names that pass.
            self._threshold(frame, r, name_expr, value_expr, agg_kind, shape)
            label = self._target_label(r)
            counted = _ident(plural_label(label))
            inner = self.select
            inner.set("limit", None)
            inner.set("order", None)
            self.select = exp.select(exp.Count(this=exp.Star()).as_(counted)).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("passing")))
            )
            shape.kind, shape.value_column, shape.value_label = "count", counted, label
        elif frame.threshold is not None and name_expr is None and agg_kind == "column" and r.column:
            # "How many days had more than 20 mm of precipitation?": the rows whose number passes, counted.
            op, n = frame.threshold
            number = exp.Literal.number(int(n) if n.is_integer() else n)
            self.select = self.select.where(_COMPARE[op](this=value_expr.copy(), expression=number))
            self._bounded = True
            said = self.p.tm(r.fact).synonyms
            shape.value_label = said[0] if said else r.fact.replace("_", " ")  # the rows counted
            self._aggregate(frame, r, exp.Count(this=exp.Star()), "count", target_alias, shape)
        elif r.per is not None and (frame.agg != "avg" or frame.order):  # "the average per season": one
            self._per(frame, r, value_expr, agg_kind, shape)
        elif compare_groups:
            self._compare(frame, r, compare_groups, value_expr, shape)
        elif asks_rank and rank_col is not None and not use_rank:
            col = exp.column(rank_col, table=fact_alias)
            self.select = self.select.select(col.as_("position")).limit(10)
            shape.kind, shape.value_column = "rank", "position"
        elif frame.qword == "when" and r.target.column is not None:
            tcol = exp.column(r.target.column, table=fact_alias)
            self.select = self.select.select(tcol.as_(r.target.column)).distinct()
            if frame.first_last:
                self.select = self.select.order_by(
                    exp.Ordered(this=tcol.copy(), desc=frame.first_last == "last")
                )
                self.select = self.select.limit(1)
            else:
                self.select = self.select.order_by(tcol.copy()).limit(50)
            shape.kind, shape.value_column = "when", r.target.column
        elif name_expr is not None and frame.age and target_alias is not None and r.target.table:
            self._age(frame, r, name_expr, target_alias, fact_alias, shape)
        elif name_expr is not None and (frame.order or frame.top_n):
            self._top(frame, r, name_expr, value_expr, agg_kind, shape)
            if r.projection and target_alias is not None and shape.kind == "top":
                asked = ranked.top_projection(self.select, r.projection, target_alias)
                if asked is not None:
                    self.select = asked
                    shape.kind, shape.name_column = "first", r.projection[-1]
        elif name_expr is not None and frame.first_last:
            order = self._order_columns(r, fact_alias)
            if r.projection and target_alias is not None:
                # "The name and date of the most recent race": the columns asked for, of that one row.
                cols = [exp.column(c, table=target_alias) for c in r.projection]
                self.select = self.select.select(*[c.as_(n) for c, n in zip(cols, r.projection, strict=True)])
                name_expr = cols[0]
            else:
                self.select = self.select.select(name_expr.as_(shape.name_column or "name"))
            for key in order:
                self.select = self.select.order_by(exp.Ordered(this=key, desc=frame.first_last == "last"))
            self.select = self.select.limit(1)
            shape.kind, shape.name_column = "first", (r.projection[0] if r.projection else "name")
        elif frame.agg in ("count", "sum", "avg") or frame.qword in ("how_many", "how_much", "yesno"):
            self._aggregate(frame, r, value_expr, agg_kind, target_alias, shape)
        elif name_expr is not None and r.projection and not frame.agg and target_alias is not None:
            # "The names and years of races ...": the columns asked for, each distinct row once.
            cols = [exp.column(c, table=target_alias) for c in r.projection]
            self.select = self.select.select(*[c.as_(n) for c, n in zip(cols, r.projection, strict=True)])
            self.select = self.select.group_by(*[c.copy() for c in cols])
            if frame.alpha:
                self.select = self.select.order_by(
                    exp.Ordered(this=cols[0].copy(), desc=frame.alpha == "desc")
                )
            self.select = self.select.limit(50)
            shape.kind, shape.name_column = "list", r.projection[0]
        elif name_expr is not None:
            if r.column is not None and self.p.role(r.fact, r.column) == "measure" and r.measure is None:
                # "Which drivers won races in 2012?" on season totals: those with some of it.
                self.select = self.select.where(
                    exp.GT(this=exp.column(r.column, table=fact_alias), expression=exp.Literal.number(0))
                )
            self.select = self.select.select(name_expr.as_("name"))
            self.select = self.select.group_by(name_expr.copy())
            order = self._order_columns(r, fact_alias)
            if frame.alpha:
                self.select = self.select.order_by(
                    exp.Ordered(this=name_expr.copy(), desc=frame.alpha == "desc")
                )
            elif order:
                self.select = self.select.order_by(exp.Min(this=order[0]))
            else:
                self.select = self.select.order_by(name_expr.copy())
            self.select = self.select.limit(50)
            shape.kind, shape.name_column = "list", "name"
        elif r.column is not None:
            col = exp.column(r.column, table=fact_alias)
            if frame.order or frame.first_last:
                self.select = self.select.select(col.as_(r.column))
                desc = frame.order == "max" or frame.first_last == "last"
                self.select = self.select.order_by(exp.Ordered(this=col.copy(), desc=desc)).limit(1)
                self.select = self.select.where(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())))
            else:
                self.select = self.select.select(col.as_(r.column)).limit(20)
            shape.kind, shape.value_column = "value", r.column
        else:
            self._aggregate(frame, r, value_expr, agg_kind, target_alias, shape)
        if frame.threshold is not None and "HAVING" not in self.select.sql() and not self._bounded:
            # "more than 5000" with nothing it bounds: an answer without it would be confidently wrong.
            raise ValueError("a bound that no number of the data takes")
        return self.select.sql(dialect=self.dialect), shape

    def expression(self) -> exp.Select:
        """The built query as an expression (a sub-query of another)."""
        return self.select

    def _sibling(self, r: Reading, column: str, value: str, path: tuple[Edge, ...], fact_alias: str) -> None:
        """ "Who was Max Verstappen's teammate?": the answer's rows are others that share the named one's
        other keys (same team, same year), not the named one itself."""
        own = path[0].from_column
        keys = self.p._sibling_keys(r.fact, own)
        tc = self.p.time_column(r.fact)
        if tc:
            keys.append(tc)
        inner, named = "sibling", "sibling_named"
        edge = path[0]
        # Uncorrelated, so the database computes the named one's keys once: (team, year) IN (SELECT ...).
        sub = (
            exp.select(*[exp.column(k, table=inner) for k in keys])
            .from_(
                exp.Table(this=exp.to_identifier(r.fact), alias=exp.TableAlias(this=exp.to_identifier(inner)))
            )
            .join(
                exp.Table(
                    this=exp.to_identifier(edge.to_table), alias=exp.TableAlias(this=exp.to_identifier(named))
                ),
                on=exp.EQ(
                    this=exp.column(edge.to_column, table=named), expression=exp.column(own, table=inner)
                ),
            )
            .where(exp.EQ(this=exp.column(column, table=named), expression=exp.Literal.string(value)))
        )
        cond = self.p.tm(r.fact).default_filter
        if cond:
            sub = sub.where(qualify(cond, inner))
        outer = [exp.column(k, table=fact_alias) for k in keys]
        left: exp.Expr = outer[0] if len(outer) == 1 else exp.Tuple(expressions=outer)
        self.select = self.select.where(exp.In(this=left, query=exp.Subquery(this=sub)))
        alias = self.join(path)
        self.select = self.select.where(
            exp.NEQ(this=exp.column(column, table=alias), expression=exp.Literal.string(value))
        )

    # -- pieces --------------------------------------------------------------------------------------------
    def _year_expr(self, table: str, column: str, alias: str) -> exp.Expr:
        col = self.p.catalog.tables[table].column(column)
        if col is not None and col.is_temporal:
            return exp.Year(this=exp.column(column, table=alias))
        return exp.column(column, table=alias)

    def _value(self, frame: Frame, r: Reading, fact_alias: str, measure: object) -> tuple[exp.Expr, str, str]:
        """The number the question is about: the measure's count or sum, or a column of the fact table."""
        m = self.p.measure(r.measure) if r.measure else None
        col_role = self.p.role(r.fact, r.column) if r.column else ""
        if r.column is not None and col_role in ("", "dimension") and frame.agg == "avg" and m is None:
            # "the average fastest lap speed": a column named outright is averaged even when the database
            # keeps it as text (SQLite); the cast makes the number.
            number = exp.DataType.build("double")
            cast: exp.Expr = exp.TryCast(this=exp.column(r.column, table=fact_alias), to=number)
            return cast, _label(r.column), "column"
        if r.column is not None and frame.hints and m is None:
            # "the northernmost airport": ranked by the property's column (a latitude), whatever its role.
            return exp.column(r.column, table=fact_alias), " ".join(words_of(r.column)), "column"
        if r.column is not None and col_role == "measure" and (m is None or frame.agg in ("sum", "avg")):
            col = exp.column(r.column, table=fact_alias)
            return col, _label(r.column), "column"
        if m is not None:
            label = _label(r.measure or "")
            if m.aggregate != "count" and m.column:
                col = exp.column(m.column, table=fact_alias)
                return col, label, m.aggregate
            return exp.Count(this=exp.Star()), label, "count"
        if r.column is not None and col_role == "measure":
            return exp.column(r.column, table=fact_alias), _label(r.column), "column"
        if r.counted is not None:
            said = self.p.tm(r.counted).synonyms[:2]  # "with 431 races", not "431 race results"
            plural = [w for w in said if w.endswith("s")]
            return exp.Count(this=exp.Star()), (plural or said or [_label(r.counted)])[0], "count"
        return exp.Count(this=exp.Star()), _label(r.fact), "count"

    def _target(self, r: Reading, fact_alias: str) -> tuple[str | None, exp.Expr | None]:
        t = r.target
        if t.table is not None:
            alias = self.join(t.path)
            if t.column is not None:
                return alias, exp.column(t.column, table=alias)
            entity = self.p.tm(t.table).entity
            name = entity[0] if entity else _first_text(self.p, t.table)
            return alias, (exp.column(name, table=alias) if name else None)
        if t.column is not None:
            return fact_alias, exp.column(t.column, table=fact_alias)
        return None, None

    def _grouping(self, r: Reading, name_expr: exp.Expr) -> list[exp.Expr]:
        """Grouped by the name, and by the row's key where names repeat (two drivers called Schumacher are
        two drivers, each with his own count)."""
        out: list[exp.Expr] = [name_expr.copy()]
        table = self.p.catalog.tables.get(r.target.table or "")
        if table is None or not isinstance(name_expr, exp.Column) or r.target.column is not None:
            return out
        col = table.column(name_expr.name)
        key = table.primary_key
        if col is None or len(key) != 1 or key[0] == col.name or not col.distinct_count:
            return out
        if col.distinct_count < table.rows:
            out.append(exp.column(key[0], table=name_expr.table))
        return out

    def _target_label(self, r: Reading) -> str:
        if r.target.table is not None:
            syn = self.p.tm(r.target.table).synonyms
            return syn[0] if syn else r.target.table.replace("_", " ")
        if r.target.column is not None:
            return r.target.column.replace("_", " ")
        return ""

    def _order_columns(self, r: Reading, fact_alias: str) -> list[exp.Expr]:
        cols = [c for c in self.p.tm(r.fact).order_by if self.p.catalog.tables[r.fact].column(c) is not None]
        if cols:
            return [exp.column(c, table=fact_alias) for c in cols]
        # A date orders finer than a year; a text column named "date" (SQLite keeps dates as text) is one too.
        dates = [
            c.name
            for c in self.p.catalog.tables[r.fact].columns
            if (c.is_temporal or c.name.lower() in ("date", "day")) and "birth" not in c.name
        ]
        if dates:
            return [exp.column(dates[0], table=fact_alias)]
        tc = self.p.time_column(r.fact)
        if tc:
            return [exp.column(tc, table=fact_alias)]
        # Through the year path (races of a result row), so "first" still means earliest.
        if r.year_column is not None and r.year_column[0]:
            alias = self.join(r.year_column[0])
            return [exp.column(r.year_column[1], table=alias)]
        return []

    def _aggregate_expr(self, value_expr: exp.Expr, agg_kind: str, frame: Frame) -> exp.Expr:
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

    def _top(
        self,
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
        metric_alias = _ident(shape.value_label or "value")
        if r.column is not None and self.p.role(r.fact, r.column) == "rank" and frame.order == "min":
            self._best_placed(frame, r, name_expr, shape)
            return
        if r.target.table == r.fact and agg_kind == "column":
            # One row per thing already (a career total on the drivers table): no grouping needed.
            self.select = self.select.select(name_expr.as_("name"), value_expr.as_(metric_alias))
            self.select = self.select.where(
                exp.Not(this=exp.Is(this=value_expr.copy(), expression=exp.Null()))
            )
            self.select = self.select.order_by(exp.Ordered(this=value_expr.copy(), desc=desc))
        else:
            agg = self._aggregate_expr(value_expr, agg_kind, frame)
            self.select = self.select.select(name_expr.as_("name"), agg.as_(metric_alias))
            self.select = self.select.group_by(*self._grouping(r, name_expr))
            if frame.single and r.year_column is None:
                r.year_column = self.p._year_column(r.fact)
            if frame.single and r.year_column is not None:
                # "The most wins in a single season": one row per name and season, the season said too.
                ypath, ycol = r.year_column
                yalias = self.join(ypath)
                year = self._year_expr(ypath[-1].to_table if ypath else r.fact, ycol, yalias)
                self.select = self.select.select(year.as_("year")).group_by(year.copy())
            self.select = self.select.order_by(exp.Ordered(this=exp.column(metric_alias), desc=desc))
        self.select = self.select.limit(limit)
        shape.kind, shape.name_column, shape.value_column, shape.limit = "top", "name", metric_alias, limit
        if limit == 1 and not frame.top_n and not frame.single:
            self._with_ties(frame, metric_alias)

    def _with_ties(self, frame: Frame, metric: str) -> None:
        """ "Which state has the fewest airports?": every name tied for the best, not one picked at random."""
        inner = self.select.copy()
        inner.set("order", None)
        inner.set("limit", None)

        def sub(alias: str) -> exp.Subquery:
            return exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias)))

        best = (exp.Max if frame.order != "min" else exp.Min)(this=exp.column(metric))
        self.select = (
            exp.select("*")
            .from_(sub("ranked"))
            .where(
                exp.EQ(
                    this=exp.column(metric), expression=exp.Subquery(this=exp.select(best).from_(sub("best")))
                )
            )
            .order_by(exp.column("name"))
            .limit(10)
        )

    def _best_placed(self, frame: Frame, r: Reading, name_expr: exp.Expr, shape: Shape) -> None:
        """ "The best placed driver for Mercedes in 2019": each name's best (smallest) position, and every
        name that shares the best of all (a tie is said, not broken at random)."""
        assert r.column is not None
        col = exp.column(r.column, table=self.aliases[()])
        best_of_all = self.select.copy().select(exp.Min(this=col.copy()))
        best_of_all.set("limit", None)
        self.select = self.select.select(name_expr.as_("name"), exp.Min(this=col.copy()).as_("best_position"))
        self.select = self.select.group_by(*self._grouping(r, name_expr))
        if frame.top_n:
            self.select = self.select.order_by(exp.column("best_position"), name_expr.copy()).limit(
                frame.top_n
            )
        else:
            self.select = self.select.having(
                exp.EQ(this=exp.Min(this=col.copy()), expression=exp.Subquery(this=best_of_all))
            )
            self.select = self.select.order_by(name_expr.copy()).limit(10)
        shape.kind, shape.name_column, shape.value_column = "list", "name", "best_position"

    def _age(
        self, frame: Frame, r: Reading, name_expr: exp.Expr, target_alias: str, fact_alias: str, shape: Shape
    ) -> None:
        """ "The youngest driver": the latest birth date; "the youngest winner": the least age at the event
        (its date, or its year), over every event the filters keep."""
        assert r.target.table is not None
        birth_name = self.p.birth_column(r.target.table)
        assert birth_name is not None
        birth = exp.column(birth_name, table=target_alias)
        young = frame.age == "young"
        self.select = self.select.select(name_expr.as_("name"), birth.copy().as_(birth_name))
        self.select = self.select.where(exp.Not(this=exp.Is(this=birth.copy(), expression=exp.Null())))
        event = self._event_time(r, fact_alias) if r.target.table != r.fact else None
        if event is None:
            self.select = self.select.order_by(exp.Ordered(this=birth.copy(), desc=young))
        else:
            when, is_date = event
            if is_date:
                age: exp.Expr = exp.DateDiff(this=when.copy(), expression=birth.copy(), unit=exp.var("DAY"))
            else:
                age = exp.Sub(this=when.copy(), expression=exp.Year(this=birth.copy()))
            self.select = self.select.select(when.copy().as_("at"))
            self.select = self.select.order_by(exp.Ordered(this=age, desc=not young))
        self.select = self.select.limit(1)
        shape.kind, shape.name_column = "first", "name"

    def _event_time(self, r: Reading, fact_alias: str) -> tuple[exp.Expr, bool] | None:
        """When the fact happened: a date of the fact or of the table its year comes from, else its year."""
        for c in self.p.catalog.tables[r.fact].columns:
            if c.is_temporal and "birth" not in c.name.lower():
                return exp.column(c.name, table=fact_alias), True
        if r.year_column is None:
            r.year_column = self.p._year_column(r.fact)
        if r.year_column is None:
            return None
        ypath, ycol = r.year_column
        table = ypath[-1].to_table if ypath else r.fact
        yalias = self.join(ypath)
        for c in self.p.catalog.tables[table].columns:
            if c.is_temporal and "birth" not in c.name.lower():
                return exp.column(c.name, table=yalias), True
        # A year alone: a race's date is better, when a table of dated events shares the fact's keys.
        for edge in self.p.graph.out.get(r.fact, []):
            ref = self.p.catalog.tables.get(edge.to_table)
            if edge.forward and ref is not None:
                dated = [c.name for c in ref.columns if c.is_temporal and "birth" not in c.name.lower()]
                if dated and self.p.time_column(edge.to_table):
                    return exp.column(dated[0], table=self.join((edge,))), True
        # Events dated elsewhere under the same year (a season ends with its last race): the last date.
        year_col = exp.column(ycol, table=yalias)
        for tname, t in self.p.catalog.tables.items():
            if tname in (r.fact, table) or not self.p.tm(tname).exposed or self.p.time_column(tname) != ycol:
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
        return self._year_expr(table, ycol, yalias), False

    def _threshold(
        self, frame: Frame, r: Reading, name_expr: exp.Expr, value_expr: exp.Expr, agg_kind: str, shape: Shape
    ) -> None:
        """ "Which drivers have more than 50 wins?": the names whose number passes the bound."""
        assert frame.threshold is not None
        self._bounded = True
        op, n = frame.threshold
        ops = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}
        number = exp.Literal.number(int(n) if n.is_integer() else n)
        metric = _ident(shape.value_label or "value")
        if r.target.table == r.fact and agg_kind == "column":
            self.select = self.select.select(name_expr.as_("name"), value_expr.as_(metric))
            self.select = self.select.where(ops[op](this=value_expr.copy(), expression=number))
        elif frame.single and agg_kind == "column":
            # "more than 400 points in a season": a bound on each row (a season's total), not on the sum of
            # them; each name once, with its best.
            best = exp.Max if op in (">", ">=") else exp.Min
            self.select = self.select.where(ops[op](this=value_expr.copy(), expression=number))
            self.select = self.select.select(name_expr.as_("name"), best(this=value_expr.copy()).as_(metric))
            self.select = self.select.group_by(name_expr.copy())
        else:
            agg = self._aggregate_expr(value_expr, agg_kind, frame)
            self.select = self.select.select(name_expr.as_("name"), agg.as_(metric)).group_by(
                *self._grouping(r, name_expr)
            )
            self.select = self.select.having(ops[op](this=agg.copy(), expression=number))
        self.select = self.select.order_by(exp.Ordered(this=exp.column(metric), desc=True)).limit(100)
        shape.kind, shape.name_column, shape.value_column = "list", "name", metric

    def _per(self, frame: Frame, r: Reading, value_expr: exp.Expr, agg_kind: str, shape: Shape) -> None:
        """One row per year (or team): the number for each, in time order or largest first."""
        assert r.per is not None
        path, column = r.per
        alias = self.join(path)
        table = path[-1].to_table if path else r.fact
        key = self._year_expr(table, column, alias)
        agg = self._aggregate_expr(value_expr, agg_kind, frame)
        metric = _ident(shape.value_label or "value")
        name = "year" if frame.per in ("year", "season") else "name"
        self.select = self.select.select(key.as_(name), agg.as_(metric)).group_by(key.copy())
        if frame.order:
            # "Which year had the most precipitation?": the best year, and every year tied with it.
            best = (exp.Max if frame.order == "max" else exp.Min)(this=exp.column(metric))
            grouped = self.select

            def sub(name_: str) -> exp.Subquery:
                return exp.Subquery(this=grouped.copy(), alias=exp.TableAlias(this=exp.to_identifier(name_)))

            top = exp.select(best).from_(sub("all_years"))
            self.select = (
                exp.select("*")
                .from_(sub("years"))
                .where(exp.EQ(this=exp.column(metric), expression=exp.Subquery(this=top)))
                .order_by(exp.column(name))
                .limit(10)
            )
            shape.kind, shape.name_column, shape.value_column = "top", name, metric
            return
        if name == "year":
            self.select = self.select.order_by(exp.column(name))
        else:
            self.select = self.select.order_by(exp.Ordered(this=exp.column(metric), desc=True))
        self.select = self.select.limit(200)
        shape.kind, shape.name_column, shape.value_column = "per", name, metric
        shape.per_label = frame.per

    def _aggregate(
        self,
        frame: Frame,
        r: Reading,
        value_expr: exp.Expr,
        agg_kind: str,
        target_alias: str | None,
        shape: Shape,
    ) -> None:
        alias = _ident(shape.value_label or "value")
        if r.target.table is not None and frame.qword == "how_many" and agg_kind == "column":
            # "How many drivers have won a title?": rows of the noun's table that have some of the measure.
            self.select = self.select.where(exp.GT(this=value_expr, expression=exp.Literal.number(0)))
            if r.target.table == r.fact:
                expr: exp.Expr = exp.Count(this=exp.Star())
            else:
                key = r.target.path[-1].to_column if r.target.path else "id"
                expr = exp.Count(this=exp.Distinct(expressions=[exp.column(key, table=target_alias)]))
            shape.value_label = self._target_label(r)
            alias = _ident(shape.value_label)
        elif r.target.table is not None and r.target.table != r.fact and isinstance(value_expr, exp.Count):
            # "How many drivers ...": distinct rows of the noun's table, not rows of the facts.
            key = r.target.path[-1].to_column if r.target.path else "id"
            expr = exp.Count(this=exp.Distinct(expressions=[exp.column(key, table=target_alias)]))
            shape.value_label = self._target_label(r)
            alias = _ident(shape.value_label)
        elif frame.qword == "how_many" and r.target.column is not None and isinstance(value_expr, exp.Count):
            # "How many countries are there?": the distinct values of the column the noun names.
            table = target_alias if r.target.table is not None else self.aliases[()]
            expr = exp.Count(this=exp.Distinct(expressions=[exp.column(r.target.column, table=table)]))
            shape.value_label = _label(r.target.column)
            alias = _ident(shape.value_label)
        elif frame.agg == "avg" and not isinstance(value_expr, exp.Count):
            expr = exp.Avg(this=value_expr)
            shape.kind = "avg"
        else:
            expr = self._aggregate_expr(value_expr, agg_kind, frame)
        self.select = self.select.select(expr.as_(alias))
        shape.value_column = alias
        if shape.kind != "avg":
            shape.kind = (
                "yesno" if frame.qword == "yesno" else ("count" if isinstance(expr, exp.Count) else "sum")
            )

    def _compare_values(self, frame: Frame, r: Reading) -> list[tuple[str, str]]:
        if not frame.compare:
            return []
        seen: dict[tuple[str, str], int] = {}
        for vm, _ in r.values:
            seen[(vm.table, vm.column)] = seen.get((vm.table, vm.column), 0) + 1
        return [k for k, n in seen.items() if n >= 2]

    def _compare(
        self,
        frame: Frame,
        r: Reading,
        groups: list[tuple[str, str]],
        value_expr: exp.Expr,
        shape: Shape,
    ) -> None:
        table, column = groups[0]
        names = [vm.value for vm, _ in r.values if (vm.table, vm.column) == (table, column)]
        path = next(p for vm, p in r.values if (vm.table, vm.column) == (table, column))
        alias = self.join(path)
        name_expr = exp.column(column, table=alias)
        self.select = self.select.where(
            exp.In(this=name_expr, expressions=[exp.Literal.string(n) for n in names])
        )
        metric_alias = _ident(shape.value_label or "value")
        if isinstance(value_expr, exp.Count) or r.target.table != r.fact:
            agg = value_expr if isinstance(value_expr, exp.Count) else exp.Sum(this=value_expr)
        else:
            agg = exp.Sum(this=value_expr)
        self.select = self.select.select(name_expr.as_("name"), agg.as_(metric_alias))
        self.select = self.select.group_by(*self._grouping(r, name_expr))
        desc = frame.order != "min"
        self.select = self.select.order_by(exp.Ordered(this=exp.column(metric_alias), desc=desc))
        shape.kind, shape.name_column, shape.value_column = "compare", "name", metric_alias


def plural_label(label: str) -> str:
    return label if label.endswith("s") else label + "s"


def qualify(condition: str, alias: str) -> exp.Expr:
    """A condition written against one table, its columns qualified with that table's alias."""
    tree = sqlglot.parse_one(condition)
    for col in tree.find_all(exp.Column):
        if not col.table:
            col.set("table", exp.to_identifier(alias))
    return tree


def _table_alias(alias: str, table: str) -> exp.TableAlias | None:
    return None if alias == table else exp.TableAlias(this=exp.to_identifier(alias))


def _first_text(planner: Planner, table: str) -> str | None:
    for c in planner.catalog.tables[table].columns:
        if c.is_text and planner.role(table, c.name) != "identifier":
            return c.name
    return None


def _label(name: str) -> str:
    words = name.replace("_", " ").split()
    if words and words[0] == "total" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def _ident(label: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_")
    return out or "value"


def _ordinal_word(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
