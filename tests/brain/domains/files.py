"""Where the other-domain CSV files are: shipped inside PyPI packages (dev dependencies), found through the
installed distributions' file lists, so nothing is downloaded and the packages' own code is never imported."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

# set name → (distribution, file inside it)
SOURCES = {
    "penguins": ("palmerpenguins", "palmerpenguins/data/penguins.csv"),
    "seattle_weather": ("vega_datasets", "vega_datasets/_data/seattle-weather.csv"),
    "airports": ("vega_datasets", "vega_datasets/_data/airports.csv"),
}


def domain_files() -> dict[str, Path]:
    """Set name → CSV path; a set whose package is not installed is left out."""
    out: dict[str, Path] = {}
    for name, (dist, inner) in SOURCES.items():
        try:
            path = Path(str(importlib.metadata.distribution(dist).locate_file(inner)))
        except importlib.metadata.PackageNotFoundError:
            continue
        if path.is_file():
            out[name] = path
    return out


def import_domain(name: str, folder: Path) -> Path:
    """The set's CSV imported into a new DuckDB file in `folder`, as `datavox import FILE` does."""
    from datavox.data.importer import import_paths

    path = folder / f"{name}.duckdb"
    import_paths(f"duckdb:///{path}", [domain_files()[name]])
    return path
