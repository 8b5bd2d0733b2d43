"""Segment rules as data (`keepwell/segments.yml`): each account's ARR band, lifecycle stage and touch model,
derived from its plan, size, MRR and dates; `python -m keepwell recompute` stores them on the account."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keepwell import yamlfile
from keepwell.scorecards.config import Match
from keepwell.scorecards.measures import Facts
from keepwell.segments import LIFECYCLE_STAGES
from keepwell.yamlfile import Invalid

DEFAULT_PATH = Path(__file__).resolve().with_name("segments.yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArrBand(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_+-]{0,31}$")
    below: float | None = Field(default=None, gt=0)  # USD a year; None: no upper end


class StageRule(_Strict):
    stage: str
    when: Match | None = None

    @model_validator(mode="after")
    def _known(self) -> "StageRule":
        if self.stage not in LIFECYCLE_STAGES:
            raise ValueError(f"unknown lifecycle stage {self.stage!r}; known: {list(LIFECYCLE_STAGES)}")
        return self


class TouchRule(_Strict):
    model: str = Field(pattern=r"^[a-z][a-z-]{0,15}$")
    when: Match | None = None


def _last_takes_the_rest(rules: list[StageRule] | list[TouchRule], what: str) -> None:
    if rules[-1].when is not None:
        raise Invalid(f"the last of the {what} needs no `when`: it takes every account the others leave", what)
    if any(rule.when is None for rule in rules[:-1]):
        raise Invalid(f"only the last of the {what} may leave out `when` (the ones after could never apply)", what)


class SegmentRules(_Strict):
    arr_bands: list[ArrBand] = Field(min_length=1)
    lifecycle_stages: list[StageRule] = Field(min_length=1)
    touch_models: list[TouchRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _well_formed(self) -> "SegmentRules":
        limits = [band.below for band in self.arr_bands]
        if limits[-1] is not None or any(limit is None for limit in limits[:-1]):
            raise Invalid("every ARR band but the last needs `below`, and the last none", "arr_bands")
        if limits[:-1] != sorted(limits[:-1]) or len(set(limits)) != len(limits):  # type: ignore[type-var]
            raise Invalid("ARR bands must go up: each `below` above the one before", "arr_bands")
        ids = [band.id for band in self.arr_bands]
        if len(set(ids)) != len(ids):
            raise Invalid(f"duplicate ARR band ids in {ids}", "arr_bands")
        _last_takes_the_rest(self.lifecycle_stages, "lifecycle_stages")
        _last_takes_the_rest(self.touch_models, "touch_models")
        return self

    def classify(self, plan: str, company_size: str, mrr: float, facts: Facts) -> "Segmentation":
        arr = 12 * mrr
        arr_band = next(b.id for b in self.arr_bands if b.below is None or arr < b.below)
        draft = Segmentation(plan, company_size, "", arr_band, "")
        stage = next(r.stage for r in self.lifecycle_stages if r.when is None or r.when.holds(draft, facts))
        draft = Segmentation(plan, company_size, stage, arr_band, "")
        touch = next(r.model for r in self.touch_models if r.when is None or r.when.holds(draft, facts))
        return Segmentation(plan, company_size, stage, arr_band, touch)


@dataclass(frozen=True)
class Segmentation:
    """Where an account stands: plan tier and size (its own), lifecycle stage, ARR band and touch model (derived)."""

    plan: str
    company_size: str
    lifecycle_stage: str
    arr_band: str
    touch_model: str


def load(path: Path | str | None = None) -> SegmentRules:
    """Read and validate a segments file (the bundled one when `path` is None); ConfigError names file and line."""
    return yamlfile.load(Path(path) if path else DEFAULT_PATH, SegmentRules, "segments")


@lru_cache
def bundled() -> SegmentRules:
    return load()
