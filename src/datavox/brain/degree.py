"""Words of degree that rank rows without naming a count: "the heaviest penguin", "the most common weather".

Plain English, nothing about any dataset: a superlative carries the nouns of the property it ranks by (the
planner keeps the one a column of the data is called), "most common" asks for the value with the most rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datavox.brain.frame import Frame

# English superlatives that say what they rank by: (order, the property's nouns). Not "fastest"/"slowest",
# which name columns themselves in many datasets ("fastest lap").
SUPERLATIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "longest": ("max", ("length", "long", "distance", "duration")),
    "shortest": ("min", ("length", "long", "distance", "duration")),
    "heaviest": ("max", ("weight", "mass", "heavy")), "lightest": ("min", ("weight", "mass", "heavy")),
    "hottest": ("max", ("temperature", "temp", "heat")), "warmest": ("max", ("temperature", "temp", "heat")),
    "coldest": ("min", ("temperature", "temp", "cold")), "coolest": ("min", ("temperature", "temp")),
    "windiest": ("max", ("wind", "windspeed", "gust")), "calmest": ("min", ("wind", "windspeed")),
    "wettest": ("max", ("precipitation", "rain", "rainfall")),
    "rainiest": ("max", ("precipitation", "rain", "rainfall")),
    "driest": ("min", ("precipitation", "rain", "rainfall")),
    "tallest": ("max", ("height", "tall")), "deepest": ("max", ("depth", "deep")),
    "widest": ("max", ("width", "wide")),
    "northernmost": ("max", ("latitude", "lat")), "southernmost": ("min", ("latitude", "lat")),
    "easternmost": ("max", ("longitude", "lon", "lng")), "westernmost": ("min", ("longitude", "lon", "lng")),
    "cheapest": ("min", ("price", "cost")), "priciest": ("max", ("price", "cost")),
}  # fmt: skip


# Verbs that say a property ("penguins that weigh more than 5000 grams"): the property's nouns.
VERBS: dict[str, tuple[str, ...]] = {
    "weigh": ("weight", "mass"), "weighs": ("weight", "mass"), "weighed": ("weight", "mass"),
    "cost": ("price", "cost"), "costs": ("price", "cost"), "costed": ("price", "cost"),
    "earn": ("salary", "income", "earnings", "pay"), "earns": ("salary", "income", "earnings", "pay"),
    "earned": ("salary", "income", "earnings", "pay"),
}  # fmt: skip


def superlative(frame: Frame, words: list[str], used: set[int]) -> None:
    for i, w in enumerate(words):
        if w in VERBS and frame.threshold is not None:
            frame.hints = list(VERBS[w])
            used.add(i)
            return
        if w in SUPERLATIVES:
            frame.order, nouns = SUPERLATIVES[w]
            frame.hints = list(nouns)
            used.add(i)
            return


def mode(frame: Frame, words: list[str], used: set[int]) -> None:
    """ "the most common weather", "which species is the least frequent", "occurs most often": counted rows,
    the value with the most (or fewest) of them."""
    for i in range(len(words) - 1):
        if words[i] in ("most", "least") and words[i + 1] in (
            "common",
            "frequent",
            "popular",
            "often",
            "usual",
        ):
            frame.order, frame.mode = ("max" if words[i] == "most" else "min"), True
            used.update({i, i + 1})
            if i > 0 and words[i - 1] in ("occur", "occurs", "occurred", "happen", "happens", "happened"):
                used.add(i - 1)
            return
