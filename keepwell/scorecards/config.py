"""The scorecards file (`keepwell/scorecards.yml`, its header documents the format) as validated pydantic models.

Every rule a person can break is checked here, so a bad file is refused as a whole at load time with the file and
line of each problem (keepwell.yamlfile): weights that do not add up to 1, overlapping ranges, unknown measures,
unknown keys, a scheme that does not fit its measure, band thresholds out of order, no default or two.
"""

import itertools
import math
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keepwell.scorecards.measures import BILLING_STATES, MEASURES, Facts, Value
from keepwell.yamlfile import Invalid

MeasureKey = Literal[
    "login_frequency",
    "active_users",
    "seat_utilisation",
    "feature_adoption",
    "support_load",
    "csat",
    "nps",
    "days_to_renewal",
    "billing_state",
    "onboarding_progress",
]
assert set(MeasureKey.__args__) == set(MEASURES)

Band = Literal["green", "yellow", "red"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Linear(_Strict):
    """Points rise (or fall) linearly from 0 at `zero_at` to 100 at `full_at`, clipped outside."""

    zero_at: float
    full_at: float

    @model_validator(mode="after")
    def _apart(self) -> "Linear":
        if self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self

    def points(self, value: float) -> float:
        share = (value - self.zero_at) / (self.full_at - self.zero_at)
        return 100 * min(max(share, 0.0), 1.0)


class Range(_Strict):
    """Values from `min` (included) up to `max` (excluded) get `points`; an open end is left out."""

    min: float | None = None
    max: float | None = None
    points: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"range min {self.min:g} must be below its max {self.max:g}")
        return self

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)

    def __str__(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "inf" if self.max is None else f"{self.max:g}"
        return f"[{low}, {high})"


class MeasureRule(_Strict):
    """One measure of a scorecard: its weight and exactly one scoring scheme."""

    weight: float = Field(gt=0, le=1)
    linear: Linear | None = None
    ranges: list[Range] | None = Field(default=None, min_length=1)
    categories: dict[str, float] | None = Field(default=None, min_length=1)

    @field_validator("ranges")
    @classmethod
    def _no_overlap(cls, ranges: list[Range] | None) -> list[Range] | None:
        if ranges is None:
            return None
        ordered = sorted(ranges, key=lambda r: -math.inf if r.min is None else r.min)
        for before, after in itertools.pairwise(ordered):
            after_min = -math.inf if after.min is None else after.min
            before_max = math.inf if before.max is None else before.max
            if before_max > after_min:
                raise ValueError(f"ranges {before} and {after} overlap")
        return ranges

    @field_validator("categories")
    @classmethod
    def _points_in_range(cls, categories: dict[str, float] | None) -> dict[str, float] | None:
        bad = sorted(k for k, v in (categories or {}).items() if not 0 <= v <= 100)
        if bad:
            raise ValueError(f"category points must be 0..100: {bad}")
        return categories

    @model_validator(mode="after")
    def _one_scheme(self) -> "MeasureRule":
        given = [name for name in ("linear", "ranges", "categories") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one scoring scheme (linear, ranges or categories), not {given or 'none'}")
        return self

    def points(self, value: Value) -> float | None:
        """Points 0..100 for a raw value; None when the scheme has nothing for it (left out like missing data)."""
        if self.categories is not None:
            return self.categories.get(str(value))
        number = float(value)
        if self.linear is not None:
            return self.linear.points(number)
        return next((r.points for r in self.ranges or () if r.holds(number)), None)


class Bands(_Strict):
    """A score at or above `green` is green, at or above `yellow` yellow, red below."""

    green: int = 70
    yellow: int = 40

    @model_validator(mode="after")
    def _ordered(self) -> "Bands":
        if not 0 < self.yellow < self.green <= 100:
            got = f"yellow {self.yellow}, green {self.green}"
            raise ValueError(f"band thresholds need 0 < yellow < green <= 100, got {got}")
        return self

    def of(self, score: int) -> Band:
        return "green" if score >= self.green else "yellow" if score >= self.yellow else "red"


class Bounds(_Strict):
    min: int | None = None
    max: int | None = None

    def holds(self, value: int | None) -> bool:
        return value is not None and (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Profile(Protocol):
    """What scorecard matching reads of an account besides its facts (an Account, a segmented row)."""

    @property
    def plan(self) -> str: ...

    @property
    def company_size(self) -> str: ...

    @property
    def lifecycle_stage(self) -> str: ...


class Match(_Strict):
    """Which accounts a scorecard is for: every rule given must hold (lists: the account's value is listed)."""

    plans: list[str] | None = None
    company_sizes: list[str] | None = None
    lifecycle_stages: list[str] | None = None
    touch_models: list[str] | None = None
    arr_bands: list[str] | None = None
    account_age_days: Bounds | None = None
    days_to_renewal: Bounds | None = None

    def holds(self, profile: Profile, facts: Facts) -> bool:
        listed = (
            (self.plans, profile.plan),
            (self.company_sizes, profile.company_size),
            (self.lifecycle_stages, profile.lifecycle_stage),
            (self.touch_models, getattr(profile, "touch_model", None)),
            (self.arr_bands, getattr(profile, "arr_band", None)),
        )
        if any(allowed is not None and value not in allowed for allowed, value in listed):
            return False
        if self.account_age_days is not None and not self.account_age_days.holds(facts.account_age_days):
            return False
        return self.days_to_renewal is None or self.days_to_renewal.holds(facts.days_to_renewal)


class Scorecard(_Strict):
    """A named set of weighted measures with bands, for the accounts its `match` selects (or every other one)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    title: str = ""
    default: bool = False
    match: Match | None = None
    bands: Bands | None = None
    measures: dict[MeasureKey, MeasureRule] = Field(min_length=1)

    @field_validator("measures")
    @classmethod
    def _fits(cls, measures: dict[str, MeasureRule]) -> dict[str, MeasureRule]:
        for key, rule in measures.items():
            categorical = MEASURES[key].kind == "category"
            if categorical != (rule.categories is not None):
                wanted = "categories" if categorical else "linear or ranges"
                raise Invalid(f"measure {key} is scored with {wanted}", key)
            if categorical:
                unknown = sorted(set(rule.categories or {}) - set(BILLING_STATES))
                if unknown:
                    raise Invalid(f"measure {key} has unknown categories {unknown}; known: {list(BILLING_STATES)}", key)
        return measures

    @model_validator(mode="after")
    def _weights_add_up(self) -> "Scorecard":
        total = sum(rule.weight for rule in self.measures.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"scorecard {self.id}: measure weights add up to {total:g}, not 1")
        if self.default and self.match is not None:
            raise ValueError(f"scorecard {self.id}: the default scorecard takes every account; remove its match")
        if not self.default and self.match is None:
            raise ValueError(f"scorecard {self.id}: give a match (which accounts it is for) or mark it default")
        return self


class Trend(_Strict):
    # A score within this many points of the previous snapshot's is "flat".
    flat_within: int = Field(default=2, ge=0, le=100)


class ScorecardBook(_Strict):
    """Every scorecard, in the order they are tried; the default takes whatever no other matches."""

    bands: Bands = Bands()
    trend: Trend = Trend()
    scorecards: list[Scorecard] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_default(self) -> "ScorecardBook":
        ids = [s.id for s in self.scorecards]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise Invalid(f"duplicate scorecard ids {duplicates}", "scorecards")
        defaults = [s.id for s in self.scorecards if s.default]
        if len(defaults) != 1:
            found = defaults or "none"
            raise Invalid(f"exactly one scorecard must be the default (default: true), found {found}", "scorecards")
        return self

    @property
    def default(self) -> Scorecard:
        return next(s for s in self.scorecards if s.default)

    def get(self, scorecard_id: str) -> Scorecard:
        return next(s for s in self.scorecards if s.id == scorecard_id)

    def bands_of(self, scorecard: Scorecard) -> Bands:
        return scorecard.bands or self.bands

    def for_account(self, profile: Profile, facts: Facts) -> Scorecard:
        """The first scorecard whose match holds, in file order; the default when none does."""
        return next((s for s in self.scorecards if s.match is not None and s.match.holds(profile, facts)), self.default)
