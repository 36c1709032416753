"""CSV files (and folders of them) become tables: the backend of `datavox import` and `datavox demo`.

Per file:

1. **Names.** The table comes from `--table`, from the mapping (`{file stem, file name or path: table}`)
   or from the file stem (minus `strip_prefix`), always through `names.identifier`: lower-case snake_case,
   so a name works unquoted on every engine. A mapping value that is already such an identifier is kept as
   given; any other value is sanitised, so the seed's `F1Records` becomes `f1_records`. Headers become
   snake_case columns; empty and duplicate headers are made unique (`column_3`, `name_2`) with a warning,
   and the original headers are kept in the report (and in the semantic model's `header` field).
2. **Encoding.** UTF-8 (with or without BOM) is read as it is; anything else is detected with
   charset-normalizer (cp1252 and friends, UTF-16 with BOM) and transcoded to UTF-8 into a temporary file.
   Binary or undecodable files are refused with the reason.
3. **One streaming pass** in Python, chunk by chunk: rows whose field count differs from the header are
   rejected and reported with their line numbers (never dropped silently), and every column's type is
   inferred from its distinct values: integer, decimal (double), boolean, date, timestamp, else text. An
   empty field is NULL. Policy: a file with rejected lines still imports its good rows, unless `strict`.
4. **Load**, streaming: DuckDB reads the file itself (`read_csv` with the explicit columns and types),
   PostgreSQL gets `COPY ... FROM STDIN`, SQLite and MariaDB batched `executemany`.
5. **Atomic swap.** The table is built under a temporary name inside a transaction and renamed over the old
   one only when every good row is in (the loaded count is checked against the counted good rows), so a
   failed file leaves the earlier table as it was. MariaDB cannot roll back DDL: there the new table is built
   aside and swapped in with one atomic `RENAME TABLE`. `mode="append"` inserts into the existing table in
   one transaction instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from datavox.data.connect import DatabaseUrl, parse_url
from datavox.data.csv_scan import (
    Scan,
    detect_encoding,
    scan_file,
)
from datavox.data.csv_types import MISSING_MARKERS, ColumnType, infer_types
from datavox.data.import_report import ColumnReport, FileReport, ImportFailed, ImportReport, RejectedLine
from datavox.data.loaders import Loader, make_loader, temp_name
from datavox.data.names import identifier, table_name

Mode = Literal["replace", "append"]

__all__ = [
    "MISSING_MARKERS",
    "ColumnReport",
    "ColumnType",
    "FileReport",
    "ImportFailed",
    "ImportReport",
    "Loader",
    "RejectedLine",
    "detect_encoding",
    "import_demo",
    "import_paths",
    "infer_types",
    "make_loader",
    "resolve_table",
    "scan_file",
]


# ------------------------------------------------------------------------------------------- importing


def csv_files(paths: Iterable[str | Path]) -> list[Path]:
    """The CSV files named, folders expanded to their `*.csv` files (sorted); raises for missing paths."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
            if not found:
                raise ImportFailed(f"{path}: the folder holds no .csv files")
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise ImportFailed(f"{path}: no such file or folder")
    return out


def _mapped_name(value: str) -> str:
    # A valid lower-case identifier is kept as given; anything else goes through the identifier rules.
    return value if identifier(value, fallback="table") == value else identifier(value, fallback="table")


def resolve_table(
    path: Path, *, table: str | None, mapping: Mapping[str, str] | None, strip_prefix: str
) -> str:
    """The table a file is imported into: `table`, a mapping entry (stem, name or path) or the file stem."""
    if table:
        return _mapped_name(table)
    for key in (path.stem, path.name, str(path), str(path.resolve())):
        if mapping and key in mapping:
            return _mapped_name(mapping[key])
    return table_name(path.stem, strip_prefix=strip_prefix)


def _transcoded(path: Path, encoding: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="datavox-", suffix=".csv")
    with (
        os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
        path.open(encoding=encoding, newline="") as src,
    ):
        while block := src.read(1 << 20):
            out.write(block)
    return Path(name)


def import_file(
    loader: Loader,
    path: Path,
    table: str,
    *,
    mode: Mode = "replace",
    strict: bool = False,
) -> FileReport:
    """Import one file into `table`; failures are reported (status "failed"), never half-applied."""
    started = time.perf_counter()
    report = FileReport(path=str(path), table=table)
    temp_file: Path | None = None
    try:
        encoding = detect_encoding(path)
        report.encoding = encoding
        if encoding not in ("utf-8", "utf-8-sig"):
            report.warnings.append(f"encoding {encoding}, transcoded to UTF-8")
        source, read_as = path, encoding
        if encoding != "utf-8" and loader.db.kind == "duckdb":
            temp_file = _transcoded(path, encoding)  # DuckDB's reader wants plain UTF-8
            source, read_as = temp_file, "utf-8"
        scan = scan_file(source, read_as)
        report.delimiter = scan.delimiter
        report.warnings += scan.warnings
        report.rejected = scan.rejected
        report.rejected_count = len(scan.rejected_lines)
        report.columns = [
            ColumnReport(name=c, header=h, type=t)
            for c, h, t in zip(scan.columns, scan.headers, scan.types, strict=True)
        ]
        if scan.rejected_lines:
            lines = ", ".join(str(r.line) for r in scan.rejected[:10])
            more = "" if report.rejected_count <= 10 else f" and {report.rejected_count - 10} more"
            message = f"{report.rejected_count} line(s) with the wrong number of fields: {lines}{more}"
            if strict:
                raise ImportFailed(f"{path}: {message} (strict: nothing imported)")
            report.warnings.append(f"rejected {message}")
        _load_atomically(loader, source, read_as, scan, table, mode, report)
    except ImportFailed as exc:
        report.status, report.error = "failed", str(exc)
    except Exception as exc:  # a driver error: the message of the database, with the file it was about
        report.status, report.error = "failed", f"{path}: {str(exc).strip().splitlines()[0]}"
    finally:
        if temp_file is not None:
            temp_file.unlink(missing_ok=True)
        report.seconds = time.perf_counter() - started
    return report


def _load_atomically(
    loader: Loader, source: Path, encoding: str, scan: Scan, table: str, mode: Mode, report: FileReport
) -> None:
    existing = loader.tables()
    types = list(scan.types)
    if mode == "append" and table in existing:
        columns = loader.columns_of(table)
        if columns != scan.columns:
            raise ImportFailed(
                f"{source}: cannot append to {table}: its columns are {', '.join(columns)}, "
                f"the file's are {', '.join(scan.columns)}"
            )
        before = loader.count(table)
        loader.begin()
        try:
            loader.load(table, source, encoding, scan, types)
            loaded = loader.count(table) - before
            _check_count(source, loaded, scan.good_rows)
            loader.commit()
        except BaseException:
            loader.rollback()
            raise
        report.rows = loaded
        return
    tmp = temp_name(table)
    loader.begin()
    try:
        loader.create(tmp, scan.columns, types)
        loader.load(tmp, source, encoding, scan, types)
        loaded = loader.count(tmp)
        _check_count(source, loaded, scan.good_rows)
        loader.replace_table(tmp, table)
        loader.commit()
    except BaseException:
        loader.rollback()
        if loader.db.kind == "mysql":  # DDL is not transactional there: remove the half-built table
            with contextlib.suppress(Exception):
                loader.drop(tmp)
        raise
    report.rows = loaded


def _check_count(path: Path, loaded: int, expected: int) -> None:
    if loaded != expected:
        raise ImportFailed(
            f"{path}: the database loaded {loaded} rows but the file has {expected} good rows; "
            "nothing imported"
        )


def import_paths(
    db_url: str | DatabaseUrl,
    paths: Iterable[str | Path],
    *,
    table: str | None = None,
    mapping: Mapping[str, str] | None = None,
    mode: Mode = "replace",
    strip_prefix: str = "",
    strict: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Import CSV files and folders of them; see the module doc. One FileReport per file, failed or not."""
    started = time.perf_counter()
    db = parse_url(db_url) if isinstance(db_url, str) else db_url
    if mode not in ("replace", "append"):
        raise ImportFailed(f"mode must be replace or append, not {mode!r}")
    files = csv_files(paths)
    if table and len(files) > 1:
        raise ImportFailed(f"--table names one table but {len(files)} files were given; use --map instead")
    targets = [resolve_table(p, table=table, mapping=mapping, strip_prefix=strip_prefix) for p in files]
    seen: dict[str, Path] = {}
    for path, target in zip(files, targets, strict=True):
        if target in seen and mode == "replace":
            raise ImportFailed(f"{seen[target]} and {path} would both replace table {target}")
        seen[target] = path
    report = ImportReport(database=db.redacted())
    loader = make_loader(db)
    try:
        with _progress(progress, files) as advance:
            for path, target in zip(files, targets, strict=True):
                file_report = import_file(loader, path, target, mode=mode, strict=strict)
                report.files.append(file_report)
                advance(path, file_report)
    finally:
        loader.close()
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _progress(enabled: bool, files: list[Path]) -> Iterator[Callable[[Path, FileReport], None]]:
    """A rich progress bar over the bytes of all files; a no-op when disabled."""
    if not enabled:
        yield lambda _p, _r: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    total = sum(p.stat().st_size for p in files)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=total)

        def advance(path: Path, file_report: FileReport) -> None:
            bar.update(
                task,
                advance=path.stat().st_size,
                description=f"{file_report.table} ({file_report.rows} rows)",
            )

        yield advance


# ---------------------------------------------------------------------------------------------- demo


def verify_checksums(folder: Path) -> list[Path]:
    """The files listed in `folder/SHA256SUMS`, each checked; raises ImportFailed on a missing or bad file."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        raise ImportFailed(f"{sums} is missing; cannot verify the demo data")
    files: list[Path] = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise ImportFailed(f"{sums}:{number}: not a 'hash  file' line")
        expected, name = parts[0].lower(), parts[1].strip().lstrip("*")
        path = folder / name
        if not path.is_file():
            raise ImportFailed(f"{path} is listed in SHA256SUMS but missing")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise ImportFailed(
                f"{path} does not match its SHA256SUMS entry: the demo data is damaged or changed"
            )
        files.append(path)
    return [p for p in files if p.suffix.lower() == ".csv"]


def import_demo(settings: Any, *, path: str | None = None, progress: bool = False) -> ImportReport:
    """F1DB from `settings.demo.f1_path` (checked against SHA256SUMS) into `settings.database.url`."""
    folder = Path(path or settings.demo.f1_path)
    if not folder.is_dir():
        raise ImportFailed(f"demo data folder {folder} does not exist (set demo.f1_path or pass --path)")
    files = verify_checksums(folder)
    report = import_paths(
        settings.database.url, files, strip_prefix="f1db-", mode="replace", progress=progress
    )
    if report.ok:
        after_import(settings, report)
    return report


def after_import(settings: Any, report: ImportReport) -> str | None:
    """Regenerate the semantic model (when datavox.data.semantic provides `refresh`) and record headers.

    Returns a warning when that failed; the import itself stands either way.
    """
    try:
        from datavox.data import semantic
    except ImportError:
        return None
    refresh = getattr(semantic, "refresh", None)
    if refresh is None:
        return None
    try:
        path = refresh(settings)
        _record_headers(semantic, Path(path), report)
    except Exception as exc:
        return f"the semantic model was not refreshed: {exc}"
    return None


def _record_headers(semantic: Any, path: Path, report: ImportReport) -> None:
    """Write each column's original CSV header into the semantic model where it has none yet."""
    load = getattr(semantic, "load_semantic_model", None)
    if load is None or not path.is_file():
        return
    model = load(path)
    untouched = not semantic.edited_by_hand(path) if hasattr(semantic, "edited_by_hand") else False
    changed = False
    for file_report in report.files:
        table = getattr(model, "tables", {}).get(file_report.table)
        if table is None or file_report.status != "ok":
            continue
        for col in file_report.columns:
            column = table.columns.get(col.name)
            if (
                column is not None
                and hasattr(column, "header")
                and not column.header
                and col.header != col.name
            ):
                column.header = col.header
                changed = True
    if changed and hasattr(semantic, "write_model"):
        # Still datavox's own file: a fresh mark, so later loads keep following the generator.
        semantic.write_model(path, model, generated=untouched)
    elif changed and hasattr(model, "to_yaml"):
        text = path.read_text(encoding="utf-8")
        head = "".join(line for line in text.splitlines(keepends=True)[:1] if line.startswith("#"))
        path.write_text(head + model.to_yaml(), encoding="utf-8")
