"""`python -m benchmarks.recompute_timing`: how long `keepwell.recompute` takes on a large book.

Builds a world straight into an empty database (N accounts, W weekly usage snapshots each, a subscription, two
survey answers, a few tickets and a six-step checklist per account, a previous week's health snapshots), then times
one recompute (read, segments, health, write) the way `python -m keepwell recompute` runs it. Helper A's generator
and importer make the same world from files; this builds it directly so the recompute is timed on its own.
"""

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from keepwell import recompute
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import Customer, OnboardingStep, Subscription, SupportTicket, SurveyAnswer, UsageSnapshot

TODAY = date(2025, 6, 1)
PLANS = (("starter", 10.0), ("growth", 24.0), ("enterprise", 40.0))


def build(engine, accounts: int, weeks: int, seed: int = 1) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)  # noqa: S311 -- benchmark data
    customers, usage, terms, answers, tickets, steps = [], [], [], [], [], []
    for n in range(accounts):
        account = f"acc_{n:06d}"
        plan, price = rng.choice(PLANS)
        seats = rng.randint(3, 400)
        used = rng.randint(1, seats)
        signup = TODAY - timedelta(days=rng.randint(20, 1500))
        renewal = TODAY + timedelta(days=rng.randint(1, 365))
        customers.append(
            {"id": account, "name": f"Account {n}", "plan": plan, "company_size": "mid", "lifecycle_stage": "adoption",
             "mrr": seats * price, "seats_purchased": seats, "seats_used": used, "signup_date": signup,
             "renewal_date": renewal}
        )  # fmt: skip
        quality = rng.random()
        for w in range(weeks):
            active = max(0, round(used * min(1.0, quality + rng.uniform(-0.1, 0.1))))
            usage.append(
                {"customer_id": account, "period_end": TODAY - timedelta(days=7 * w), "period_days": 7,
                 "logins": active * rng.randint(0, 8), "active_users": active,
                 "feature_adoption": round(rng.random(), 2), "support_tickets": rng.randint(0, 3), "nps": None,
                 "csat": None}
            )  # fmt: skip
        terms.append(
            {"external_id": f"sub_{account}", "account_id": account, "plan": plan, "mrr": seats * price,
             "seats_purchased": seats, "seats_used": used, "started_on": signup, "renews_on": renewal,
             "status": "active", "billing_state": "past_due" if rng.random() < 0.05 else "current"}
        )  # fmt: skip
        at = datetime.combine(TODAY - timedelta(days=rng.randint(1, 80)), datetime.min.time(), tzinfo=UTC)
        answers += [
            {"external_id": f"{account}_nps", "account_id": account, "kind": "nps", "score": rng.randint(0, 10),
             "answered_at": at},
            {"external_id": f"{account}_csat", "account_id": account, "kind": "csat", "score": rng.randint(1, 5),
             "answered_at": at},
        ]  # fmt: skip
        tickets += [
            {"external_id": f"{account}_t{k}", "account_id": account, "opened_at": at - timedelta(days=k)}
            for k in range(rng.randint(0, 3))
        ]
        steps += [
            {"account_id": account, "step_key": f"step-{k}", "title": f"Step {k}", "position": k,
             "completed_at": at if rng.random() < 0.7 else None}
            for k in range(1, 7)
        ]  # fmt: skip
    with session_scope(engine) as session:
        for model, rows in (
            (Customer, customers), (UsageSnapshot, usage), (Subscription, terms), (SurveyAnswer, answers),
            (SupportTicket, tickets), (OnboardingStep, steps),
        ):  # fmt: skip
            for start in range(0, len(rows), 20_000):
                session.execute(insert(model), rows[start : start + 20_000])
    with session_scope(engine) as session:  # last week's snapshots, so the timed run compares with them
        recompute.recompute(session, TODAY - timedelta(days=7))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recompute_timing", description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}")
        upgrade(engine)
        started = time.perf_counter()
        build(engine, args.accounts, args.weeks)
        print(f"built {args.accounts} accounts x {args.weeks} weeks in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with session_scope(engine) as session:
            run = recompute.recompute(session, TODAY, progress=sys.stderr.isatty())
        elapsed = time.perf_counter() - started
        engine.dispose()
    print(f"recompute of {len(run.accounts)} accounts ({engine.dialect.name}): {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
