"""Demo data: fictional customer accounts of the demo product (Orbitly) with a year of weekly usage each (from
signup, for younger accounts), their customer-success records (`keepwell.demo_records`: subscriptions, contacts,
survey answers, onboarding), and health snapshots for the last weeks so the bot and console show a trend.

Everything is generated from `random.Random(seed)` and a reference date, so the same arguments always give the same
rows. Each account is given a target health band first (about 40% green, 35% yellow, 25% red) and a trend
(improving, declining or steady); its usage is then generated from a hidden "quality" level that is nudged until
the health scorecard puts the latest snapshot in the target band. The health snapshots are written by the
recompute's health step (`keepwell.recompute`) as of each of the last `HEALTH_WEEKS` weeks; the segment step is left
to `python -m keepwell recompute`, so the stages drawn here stay as drawn.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from keepwell import demo_records, health, recompute
from keepwell.accounts import Account, Usage
from keepwell.models import Customer, UsageSnapshot

# Prices and limits as the help centre states them (knowledge_base/content/billing/plans-compared.md).
SEAT_PRICES = {"free": 0.0, "starter": 10.0, "growth": 24.0}  # USD per seat per month, monthly list price
ENTERPRISE_SEAT_PRICES = (36.0, 40.0, 44.0)  # Enterprise is a custom quote; these stand in for contracts
# Free accounts buy nothing; `seats_purchased` holds the Free plan's 5-member limit so utilisation still means
# "how close to the limit".
FREE_SEAT_ALLOWANCE = 5
SEAT_RANGES = {"small": (3, 20), "mid": (21, 150), "large": (151, 1200)}
# Starter allows at most 50 seats; Enterprise contracts start at 50.
PLAN_SEAT_LIMITS = {"starter": (1, 50), "growth": (1, 100_000), "enterprise": (50, 100_000)}
BAND_SHARES = {"green": 0.40, "red": 0.25}  # yellow takes the rest
SNAPSHOTS = 52  # weeks of usage, fewer for an account younger than a year
PERIOD_DAYS = 7
_LEGACY_SNAPSHOTS = 6
HEALTH_WEEKS = 8  # weekly health snapshots written at seeding, the last one as of `today`
MONTH_DAYS = 30
RENEWAL_WINDOW_DAYS = 60  # an annual contract this close to renewal is in the "renewal" stage

# Plan x size x stage combinations that make sense: Free has no contract to renew and no large rollouts,
# Starter is too small for large companies, Enterprise is not sold to small ones.
_PLAN_SIZES = {
    "free": ("small", "mid"),
    "starter": ("small", "mid"),
    "growth": ("small", "mid", "large"),
    "enterprise": ("mid", "large"),
}
_PLAN_STAGES = {
    "free": ("onboarding", "adoption", "mature"),
    "starter": ("onboarding", "adoption", "mature", "renewal"),
    "growth": ("onboarding", "adoption", "mature", "renewal"),
    "enterprise": ("onboarding", "adoption", "mature", "renewal"),
}
COMBINATIONS: tuple[tuple[str, str, str], ...] = tuple(
    (plan, size, stage) for plan, sizes in _PLAN_SIZES.items() for size in sizes for stage in _PLAN_STAGES[plan]
)
# Accounts beyond one per combination lean towards the plans most customers are on.
_PLAN_WEIGHTS = {"free": 1.0, "starter": 2.0, "growth": 3.0, "enterprise": 1.5}

_NAME_FIRST = (
    "Bluefin", "Copperleaf", "Driftwood", "Emberline", "Foxglove", "Glasswing", "Harborlight", "Ironbark",
    "Juniperhill", "Kestrelway", "Lanternfish", "Marigold", "Nimbusfield", "Oakhollow", "Pebblebrook", "Quillfeather",
    "Redwing", "Saltmarsh", "Thistledown", "Umberfield", "Velvetleaf", "Willowmere", "Yellowtail", "Zephyrine",
    "Amberglow", "Brightwater", "Cloudberry", "Dunmoor", "Fernhollow", "Greyheron",
)  # fmt: skip
_NAME_SECOND = (
    "Logistics", "Analytics", "Studios", "Outfitters", "Robotics", "Foods", "Labs", "Health", "Architects", "Media",
    "Freight", "Energy", "Ventures", "Works", "Collective", "Partners", "Design", "Systems",
)  # fmt: skip

_TRENDS = ("improving", "declining", "steady")
_TREND_WEIGHTS = {"green": (0.45, 0.15, 0.40), "yellow": (0.35, 0.35, 0.30), "red": (0.15, 0.60, 0.25)}
_START_QUALITY = {"green": 0.80, "yellow": 0.46, "red": 0.18}
_QUALITY_STEP = 0.02
_MAX_NUDGES = 60
_BAND_RANK = {"red": 0, "yellow": 1, "green": 2}
# Days between signup and the reference date. Every demo account has six months of history so trends can be drawn;
# "onboarding" therefore means a rollout still under way some six to eight months in.
_SIGNUP_AGE_DAYS = {"onboarding": (182, 240), "adoption": (241, 480), "mature": (481, 1460)}


@dataclass(frozen=True)
class _Noise:
    """The random draws behind one snapshot, fixed up front so nudging quality changes nothing else."""

    active: float
    adoption: float
    logins: float
    tickets: float
    nps: float | None  # None: nobody answered the NPS survey
    csat: float | None


def seed(session: Session, *, customers: int = 64, seed: int = 7, today: date | None = None) -> int:
    """Add demo customers and their usage unless any customer exists; the caller commits.

    Args:
        session: an open session; rows are added and flushed, not committed.
        customers: how many accounts to create (at least 1); the default covers every sensible plan x size x stage
            combination at least once.
        seed: seed of the random generator; the same seed and `today` give the same data.
        today: the reference date that signup, renewal and usage dates are relative to (default: today).

    Returns:
        The number of customers created: 0 when the table already had customers.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if session.scalar(select(func.count()).select_from(Customer)):
        return 0
    today = today or date.today()
    rng = random.Random(seed)  # noqa: S311 -- demo data wants reproducible draws, not secrecy
    combos = _combinations(rng, customers)
    bands = _target_bands(rng, customers)
    names = _names(rng, customers)
    created: list[Customer] = []
    for index, ((plan, size, stage), band, name) in enumerate(zip(combos, bands, names, strict=True), start=1):
        created.append(_customer(rng, seed, f"cus_{index:03d}", name, plan, size, stage, band, today))
    session.add_all(created)
    session.flush()
    target_bands = {customer.id: band for customer, band in zip(created, bands, strict=True)}
    demo_records.seed(session, created, target_bands, seed=seed, today=today, starter_seat_price=SEAT_PRICES["starter"])
    health_only = [step for step in recompute.STEPS if step.name == "health"]
    for weeks_ago in range(HEALTH_WEEKS - 1, -1, -1):
        recompute.recompute(session, today - timedelta(days=7 * weeks_ago), steps=health_only)
    return customers


def assign_owner(session: Session, csm_id: int) -> int:
    """Make `csm_id` the owner CSM of every account without one; returns how many were assigned."""
    result = session.execute(update(Customer).where(Customer.owner_csm_id.is_(None)).values(owner_csm_id=csm_id))
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def seat_range(plan: str, size: str) -> tuple[int, int]:
    """Seats a paid account of this plan and company size may buy in the demo (inclusive bounds)."""
    low, high = SEAT_RANGES[size]
    plan_low, plan_high = PLAN_SEAT_LIMITS[plan]
    return max(low, plan_low), min(high, plan_high)


def _combinations(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    combos = list(COMBINATIONS)
    if n > len(combos):
        weights = [_PLAN_WEIGHTS[plan] for plan, _, _ in COMBINATIONS]
        combos += rng.choices(COMBINATIONS, weights=weights, k=n - len(combos))
    rng.shuffle(combos)
    return combos[:n]


def _target_bands(rng: random.Random, n: int) -> list[str]:
    green = round(n * BAND_SHARES["green"])
    red = round(n * BAND_SHARES["red"])
    bands = ["green"] * green + ["red"] * red + ["yellow"] * (n - green - red)
    rng.shuffle(bands)
    return bands


def _names(rng: random.Random, n: int) -> list[str]:
    pairs = [f"{first} {second}" for first in _NAME_FIRST for second in _NAME_SECOND]
    rng.shuffle(pairs)
    # Past the pool, names repeat with a numeral so they stay unique.
    return [pairs[i % len(pairs)] + (f" {i // len(pairs) + 1}" if i >= len(pairs) else "") for i in range(n)]


def _customer(
    rng: random.Random,
    seed: int,
    customer_id: str,
    name: str,
    plan: str,
    size: str,
    stage: str,
    band: str,
    today: date,
) -> Customer:
    signup, renewal = _dates(rng, plan, stage, today)
    if plan == "free":
        purchased, price = FREE_SEAT_ALLOWANCE, 0.0
    else:
        purchased = rng.randint(*seat_range(plan, size))
        price = rng.choice(ENTERPRISE_SEAT_PRICES) if plan == "enterprise" else SEAT_PRICES[plan]
    trend = rng.choices(_TRENDS, weights=_TREND_WEIGHTS[band])[0]
    drift = rng.uniform(0.12, 0.30)
    utilisation_noise = rng.uniform(-1, 1)
    # The draws of the six monthly snapshots earlier demos had, still taken so the draws after them, and so every
    # account's seats and MRR, stay what the conversation suite (tests/conversations) quotes. The weekly noise comes
    # from a generator of the account's own.
    for _ in range(_LEGACY_SNAPSHOTS):
        _draw_legacy_noise(rng)
    weekly = random.Random(f"{seed}-{customer_id}-weeks")  # noqa: S311 -- reproducible demo draws
    noise = [_draw_noise(weekly) for _ in range(SNAPSHOTS)]
    period_ends = [today - timedelta(days=PERIOD_DAYS * k) for k in range(SNAPSHOTS - 1, -1, -1)]
    # Usage starts with the account: the first week ends a week after signup.
    period_ends = [end for end in period_ends if end >= signup + timedelta(days=PERIOD_DAYS)]
    noise = noise[len(noise) - len(period_ends) :]

    quality = _START_QUALITY[band] + rng.uniform(-0.08, 0.08)
    for _ in range(_MAX_NUDGES):
        seats_used = _seats_used(purchased, quality, utilisation_noise)
        qualities = _trend(quality, trend, drift, len(period_ends))
        usage = [_usage(end, q, seats_used, n) for end, q, n in zip(period_ends, qualities, noise, strict=True)]
        account = Account(
            id=customer_id,
            name=name,
            plan=plan,
            company_size=size,
            lifecycle_stage=stage,
            mrr=purchased * price,
            seats_purchased=purchased,
            seats_used=seats_used,
            signup_date=signup,
            renewal_date=renewal,
            usage=usage[-1],
        )
        got = health.score(account, today=today).band
        if got == band:
            break
        step = _QUALITY_STEP if _BAND_RANK[got] < _BAND_RANK[band] else -_QUALITY_STEP
        quality = min(max(quality + step, 0.0), 1.0)

    return Customer(
        id=customer_id,
        name=name,
        plan=plan,
        company_size=size,
        lifecycle_stage=stage,
        mrr=round(purchased * price, 2),
        seats_purchased=purchased,
        seats_used=seats_used,
        signup_date=signup,
        renewal_date=renewal,
        usage=[
            UsageSnapshot(
                period_end=u.period_end,
                period_days=PERIOD_DAYS,
                logins=u.logins,
                active_users=u.active_users,
                feature_adoption=u.feature_adoption,
                support_tickets=u.support_tickets,
                nps=u.nps,
                csat=u.csat,
            )
            for u in usage
        ],
    )


def _dates(rng: random.Random, plan: str, stage: str, today: date) -> tuple[date, date]:
    """Signup and renewal dates consistent with the stage: renewal within 60 days exactly when stage is renewal."""
    if plan == "free":
        # No contract: the renewal date is the next monthly cycle, which is never more than 30 days away.
        signup = today - timedelta(days=rng.randint(*_SIGNUP_AGE_DAYS[stage]))
        cycles = (today - signup).days // MONTH_DAYS + 1
        return signup, signup + timedelta(days=MONTH_DAYS * cycles)
    if stage == "renewal":
        renewal = today + timedelta(days=rng.randint(10, RENEWAL_WINDOW_DAYS))
        return renewal - timedelta(days=365 * rng.randint(1, 3)), renewal
    while True:
        signup = today - timedelta(days=rng.randint(*_SIGNUP_AGE_DAYS[stage]))
        renewal = signup + timedelta(days=365 * ((today - signup).days // 365 + 1))
        if (renewal - today).days > RENEWAL_WINDOW_DAYS:
            return signup, renewal


def _draw_legacy_noise(rng: random.Random) -> None:
    for _ in range(4):
        rng.uniform(-1, 1)
    for share in (0.8, 0.75):
        if rng.random() < share:
            rng.uniform(-1, 1)


def _draw_noise(rng: random.Random) -> _Noise:
    return _Noise(
        active=rng.uniform(-1, 1),
        adoption=rng.uniform(-1, 1),
        logins=rng.uniform(-1, 1),
        tickets=rng.uniform(-1, 1),
        # A weekly snapshot: NPS is asked about once a quarter, CSAT after some support contacts.
        nps=rng.uniform(-1, 1) if rng.random() < 0.08 else None,
        csat=rng.uniform(-1, 1) if rng.random() < 0.25 else None,
    )


def _seats_used(purchased: int, quality: float, noise: float) -> int:
    utilisation = _clip(0.40 + 0.60 * quality + 0.08 * noise, 0.10, 1.0)
    return max(1, round(purchased * utilisation))


def _trend(latest: float, trend: str, drift: float, periods: int) -> list[float]:
    """Quality per period, oldest first, ending at `latest`."""
    if trend == "improving":
        start = latest - drift
    elif trend == "declining":
        start = latest + drift
    else:
        start = latest + drift / 6
    start = _clip(start, 0.0, 1.0)
    if periods == 1:
        return [latest]
    return [start + (latest - start) * k / (periods - 1) for k in range(periods)]


def _usage(period_end: date, quality: float, seats_used: int, noise: _Noise) -> Usage:
    active = min(seats_used, round(seats_used * _clip(0.20 + 0.75 * quality + 0.07 * noise.active, 0.05, 1.0)))
    # Monthly rates scaled to the week; tickets round up or down at random (a few a month are 0 or 1 a week).
    logins_per_user = max(0.5, 2 + 20 * quality + 2 * noise.logins) * PERIOD_DAYS / MONTH_DAYS
    tickets_per_seat = _clip(0.30 * (1 - quality) + 0.04 * noise.tickets, 0.0, 0.5) * PERIOD_DAYS / MONTH_DAYS
    tickets = max(seats_used, health.MIN_SEATS_FOR_SUPPORT_LOAD) * tickets_per_seat
    return Usage(
        period_end=period_end,
        logins=round(active * logins_per_user),
        active_users=active,
        feature_adoption=round(_clip(0.08 + 0.85 * quality + 0.06 * noise.adoption, 0.02, 1.0), 2),
        support_tickets=int(tickets + (noise.tickets + 1) / 2),
        nps=None if noise.nps is None else round(_clip(10 * quality + 1.5 * noise.nps, 0, 10)),
        csat=None if noise.csat is None else round(_clip(1 + 4 * quality + 0.4 * noise.csat, 1, 5), 1),
        period_days=PERIOD_DAYS,
    )


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)
