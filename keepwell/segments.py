"""Customer segments: plan x company size x lifecycle stage, and the vocabularies those three dimensions use."""

from dataclasses import dataclass
from typing import Protocol

# Ordered cheapest first: a plan's position is what "upgrade" means elsewhere (offers).
PLANS: tuple[str, ...] = ("free", "starter", "growth", "enterprise")
TOP_PLAN = PLANS[-1]
COMPANY_SIZES: tuple[str, ...] = ("small", "mid", "large")
LIFECYCLE_STAGES: tuple[str, ...] = ("onboarding", "adoption", "mature", "renewal")

PLAN_LABELS = {"free": "Free", "starter": "Starter", "growth": "Growth", "enterprise": "Enterprise"}
SIZE_LABELS = {"small": "small", "mid": "mid-size", "large": "large"}
STAGE_LABELS = {"onboarding": "onboarding", "adoption": "adoption", "mature": "mature", "renewal": "renewal"}


class _Segmentable(Protocol):
    """Anything with the three segment dimensions (an `accounts.Account`, a test double)."""

    @property
    def plan(self) -> str: ...

    @property
    def company_size(self) -> str: ...

    @property
    def lifecycle_stage(self) -> str: ...


@dataclass(frozen=True)
class Segment:
    """The group an account belongs to for playbooks and reporting."""

    plan: str
    company_size: str
    lifecycle_stage: str

    @property
    def label(self) -> str:
        """Human label such as "Growth · mid-size · adoption"; unknown values are shown as stored."""
        return " · ".join(
            (
                PLAN_LABELS.get(self.plan, self.plan),
                SIZE_LABELS.get(self.company_size, self.company_size),
                STAGE_LABELS.get(self.lifecycle_stage, self.lifecycle_stage),
            )
        )

    @property
    def key(self) -> str:
        """Stable machine key such as "growth.mid.adoption", safe in URLs, slot values and dict keys."""
        return f"{self.plan}.{self.company_size}.{self.lifecycle_stage}"


def segment_of(account: _Segmentable) -> Segment:
    """Return the segment of an account."""
    return Segment(plan=account.plan, company_size=account.company_size, lifecycle_stage=account.lifecycle_stage)
