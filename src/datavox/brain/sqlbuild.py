"""A reading of a question as one SELECT, built as a sqlglot expression and written in the target dialect.

Joins go out from the fact table along the paths the planner found; each table reached by a different path
gets its own alias. Measure filters and default filters of the semantic model are parsed with sqlglot and
their columns qualified, never pasted as text.
"""

from __future__ import annotations

from sqlglot import exp

from datavox.brain import ranked
from datavox.brain.build_age import by_age
from datavox.brain.build_rank import threshold, top
from datavox.brain.build_totals import aggregate, compare, compare_values, per_group
from datavox.brain.build_where import qualify, value_filters, year_filter
from datavox.brain.frame import Frame
from datavox.brain.joins import Edge
from datavox.brain.plan import Planner
from datavox.brain.reading import Reading
from datavox.brain.shape import Shape, column_label, output_name, plural_label
from datavox.brain.vocab import words_of

_COMPARE: dict[str, type[exp.Binary]] = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}


class Builder:
    def __init__(self, planner: Planner, dialect: str) -> None:
        self.p = planner
        self.dialect = dialect
        self.aliases: dict[tuple[Edge, ...], str] = {}
        self.used_names: set[str] = set()
        self.select = exp.Select()
        self.bounded = False  # the question's "more than N" is in the query

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
        rank_col = self.p.rank_column(r.fact, r.column)
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
        compare_groups = compare_values(frame, r)
        value_filters(self, frame, r, compare_groups, fact_alias, shape)
        year_filter(self, frame, r, shape)

        value_expr, value_label, agg_kind = self._value(frame, r, fact_alias, measure)
        shape.value_label = value_label
        target_alias, name_expr = self._target(r, fact_alias)
        shape.target_label = self.target_label(r)

        if frame.threshold is not None and name_expr is not None and not frame.agg:
            threshold(self, frame, r, name_expr, value_expr, agg_kind, shape)
        elif frame.threshold is not None and name_expr is not None and frame.qword == "how_many":
            # "How many drivers have more than 100 podiums?": count the names that pass.
            threshold(self, frame, r, name_expr, value_expr, agg_kind, shape)
            label = self.target_label(r)
            counted = output_name(plural_label(label))
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
            self.bounded = True
            said = self.p.tm(r.fact).synonyms
            shape.value_label = said[0] if said else r.fact.replace("_", " ")  # the rows counted
            aggregate(self, frame, r, exp.Count(this=exp.Star()), "count", target_alias, shape)
        elif r.per is not None and (frame.agg != "avg" or frame.order):  # "the average per season": one
            per_group(self, frame, r, value_expr, agg_kind, shape)
        elif compare_groups:
            compare(self, frame, r, compare_groups, value_expr, shape)
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
            by_age(self, frame, r, name_expr, target_alias, fact_alias, shape)
        elif name_expr is not None and (frame.order or frame.top_n):
            top(self, frame, r, name_expr, value_expr, agg_kind, shape)
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
            aggregate(self, frame, r, value_expr, agg_kind, target_alias, shape)
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
            aggregate(self, frame, r, value_expr, agg_kind, target_alias, shape)
        if frame.threshold is not None and "HAVING" not in self.select.sql() and not self.bounded:
            # "more than 5000" with nothing it bounds: an answer without it would be confidently wrong.
            raise ValueError("a bound that no number of the data takes")
        return self.select.sql(dialect=self.dialect), shape

    def expression(self) -> exp.Select:
        """The built query as an expression (a sub-query of another)."""
        return self.select

    def year_expr(self, table: str, column: str, alias: str) -> exp.Expr:
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
            return cast, column_label(r.column), "column"
        if r.column is not None and frame.hints and m is None:
            # "the northernmost airport": ranked by the property's column (a latitude), whatever its role.
            return exp.column(r.column, table=fact_alias), " ".join(words_of(r.column)), "column"
        if r.column is not None and col_role == "measure" and (m is None or frame.agg in ("sum", "avg")):
            col = exp.column(r.column, table=fact_alias)
            return col, column_label(r.column), "column"
        if m is not None:
            label = column_label(r.measure or "")
            if m.aggregate != "count" and m.column:
                col = exp.column(m.column, table=fact_alias)
                return col, label, m.aggregate
            return exp.Count(this=exp.Star()), label, "count"
        if r.column is not None and col_role == "measure":
            return exp.column(r.column, table=fact_alias), column_label(r.column), "column"
        if r.counted is not None:
            said = self.p.tm(r.counted).synonyms[:2]  # "with 431 races", not "431 race results"
            plural = [w for w in said if w.endswith("s")]
            return exp.Count(this=exp.Star()), (plural or said or [column_label(r.counted)])[0], "count"
        return exp.Count(this=exp.Star()), column_label(r.fact), "count"

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

    def grouping(self, r: Reading, name_expr: exp.Expr) -> list[exp.Expr]:
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

    def target_label(self, r: Reading) -> str:
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


def _table_alias(alias: str, table: str) -> exp.TableAlias | None:
    return None if alias == table else exp.TableAlias(this=exp.to_identifier(alias))


def _first_text(planner: Planner, table: str) -> str | None:
    for c in planner.catalog.tables[table].columns:
        if c.is_text and planner.role(table, c.name) != "identifier":
            return c.name
    return None
