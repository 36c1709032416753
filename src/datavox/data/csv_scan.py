"""Reading a CSV file: its encoding, its delimiter, and one streaming pass that counts good rows, reports
rejected lines and infers column types (see importer.py, steps 2 and 3)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datavox.data.csv_types import ColumnType, TypeInference
from datavox.data.import_report import ImportFailed, RejectedLine
from datavox.data.names import column_names, identifier

CHUNK_ROWS = 50_000
MAX_REPORTED_REJECTS = 100


# --------------------------------------------------------------------------------------------- encoding

# Encodings of other scripts (and multi-byte ones) that charset-normalizer's guess is trusted for; any other
# single-byte guess on a file that is not UTF-8 is taken as Windows-1252, the usual "ANSI" export of Western
# data (charset-normalizer often names a sibling code page such as cp775 or latin_1 for short files).
_TRUSTED_GUESSES = (
    "utf", "shift_jis", "euc", "gb", "big5", "iso2022", "cp932", "cp949", "cp950", "hz", "johab",
    "cp1251", "koi8", "cp866", "iso8859_5", "mac_cyrillic", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
    "cp1256", "iso8859_6", "cp874", "tis_620",
)  # fmt: skip


def _decodes(path: Path, encoding: str) -> bool:
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return False
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """`utf-8`, `utf-8-sig`, `utf-16`, `cp1252` or another detected encoding; raises ImportFailed for binary
    files and text no encoding reads."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        valid_utf8 = True
        has_nul = False
        for block in iter(lambda: fh.read(1 << 20), b""):
            has_nul = has_nul or b"\x00" in block
            if valid_utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid_utf8 = False
        if valid_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid_utf8 = False
    if has_nul:
        raise ImportFailed(f"{path}: contains NUL bytes: a binary file, not CSV text")
    if valid_utf8:
        return "utf-8-sig" if bom else "utf-8"
    from charset_normalizer import from_path

    best = from_path(path).best()
    guess = (best.encoding if best is not None else "").lower().replace("-", "_")
    candidates = [guess, "cp1252"] if guess.startswith(_TRUSTED_GUESSES) else ["cp1252", guess]
    for encoding in candidates:
        if encoding and _decodes(path, encoding):
            return encoding
    raise ImportFailed(
        f"{path}: cannot read the text encoding (not UTF-8 nor Windows-1252, detected {guess or 'nothing'}); "
        "save the file as UTF-8 and import it again"
    )


def _delimiter(first_line: str) -> str:
    """The most frequent of `, ; tab |` outside quotes in the header line; a comma when none occurs."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# ------------------------------------------------------------------------------------------- the scan


@dataclass
class Scan:
    """What one pass over a file found."""

    headers: list[str]
    columns: list[str]
    types: list[ColumnType]
    good_rows: int
    rejected_lines: set[int]
    rejected: list[RejectedLine]
    warnings: list[str]
    delimiter: str
    missing: frozenset[str] = frozenset()  # cells read as empty ("NA")
    slash_dates: bool = False  # dates written 2012/01/31

    def clean(self, row: list[str]) -> list[str]:
        """A row as the typed columns read it: missing markers empty, dates with dashes."""
        if self.missing:
            row = ["" if v in self.missing else v for v in row]
        if self.slash_dates:
            row = [v.replace("/", "-") if t == "date" else v for v, t in zip(row, self.types, strict=True)]
        return row


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return path.open("r", encoding=encoding, newline="")


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields); blank lines are skipped."""
    line = reader.line_num
    for row in reader:
        start = line + 1
        line = reader.line_num
        if row:
            yield start, row


def scan_file(path: Path, encoding: str) -> Scan:
    """Headers, column names, types, good-row count and rejected lines of one CSV file."""
    with _open_text(path, encoding) as fh:
        first = fh.readline()
        if not first.strip():
            rest = fh.read(1 << 16)
            if not rest.strip():
                raise ImportFailed(f"{path}: the file is empty")
            raise ImportFailed(f"{path}: the first line is empty; it must hold the column headers")
        delimiter = _delimiter(first)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        headers = next(reader)
        width = len(headers)
        columns = column_names(headers)
        warnings: list[str] = []
        for i, (header, name) in enumerate(zip(headers, columns, strict=True), start=1):
            if not header.strip():
                warnings.append(f"column {i} has no header; named it {name}")
            elif identifier(header, fallback=f"column_{i}") != name:
                warnings.append(f"header {header!r} repeats an earlier column name; named it {name}")
        # Fast path: whole chunks of rows, no line numbers. Only a file with ragged rows is read again,
        # record by record, to report the line numbers of the rejected ones.
        inference = TypeInference(width)
        good = 0
        ragged = False
        while chunk := list(itertools.islice(reader, CHUNK_ROWS)):
            rows = [row for row in chunk if len(row) == width]
            if len(rows) != len(chunk) and any(row and len(row) != width for row in chunk):
                ragged = True
                break
            good += len(rows)
            inference.update(rows)
    rejected: list[RejectedLine] = []
    rejected_lines: set[int] = set()
    if ragged:
        inference, good = TypeInference(width), 0
        with _open_text(path, encoding) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader)
            records = _records(reader)
            while chunk_lines := list(itertools.islice(records, CHUNK_ROWS)):
                rows = []
                for line, row in chunk_lines:
                    if len(row) == width:
                        rows.append(row)
                        continue
                    rejected_lines.add(line)
                    if len(rejected) < MAX_REPORTED_REJECTS:
                        text = delimiter.join(row)[:120]
                        rejected.append(RejectedLine(line, f"{len(row)} fields, expected {width}", text))
                good += len(rows)
                inference.update(rows)
    if good == 0:
        warnings.append("no data rows; every column is text")
    types = inference.types()
    missing = inference.missing(types)
    if missing:
        warnings.append(f"read {', '.join(sorted(missing))} as empty (missing values)")
    return Scan(headers, columns, types, good, rejected_lines, rejected, warnings, delimiter, missing,
                inference.slash_dates(types))  # fmt: skip


def good_rows(path: Path, encoding: str, scan: Scan) -> Iterator[list[str]]:
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=scan.delimiter)
        next(reader)
        width = len(scan.columns)
        for line, row in _records(reader):
            if len(row) == width and line not in scan.rejected_lines:
                yield scan.clean(row) if scan.missing or scan.slash_dates else row
