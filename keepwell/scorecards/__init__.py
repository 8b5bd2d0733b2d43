"""Health scorecards as data: the YAML file, its validated models, and the measures they can weigh.

`load()` reads a scorecards file (default: `keepwell/scorecards.yml`, or `KEEPWELL_SCORECARDS_PATH`) and refuses a bad
one with the file and line of each problem; `keepwell.health` scores accounts with it.
"""

from functools import lru_cache
from pathlib import Path

from keepwell import yamlfile
from keepwell.scorecards.config import Bands, MeasureRule, Scorecard, ScorecardBook
from keepwell.scorecards.measures import MEASURES, MIN_SEATS_FOR_SUPPORT_LOAD, Facts, Measure
from keepwell.yamlfile import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "scorecards.yml"

__all__ = [
    "DEFAULT_PATH",
    "MEASURES",
    "MIN_SEATS_FOR_SUPPORT_LOAD",
    "Bands",
    "ConfigError",
    "Facts",
    "Measure",
    "MeasureRule",
    "Scorecard",
    "ScorecardBook",
    "bundled",
    "load",
]


def load(path: Path | str | None = None) -> ScorecardBook:
    """Read and validate a scorecards file (the bundled one when `path` is None).

    Raises:
        ConfigError: the file cannot be read, is not YAML, or breaks a rule; every problem names file and line.
    """
    return yamlfile.load(Path(path) if path else DEFAULT_PATH, ScorecardBook, "scorecards")


@lru_cache
def bundled() -> ScorecardBook:
    """The bundled scorecards, read once per process."""
    return load()
