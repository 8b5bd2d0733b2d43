"""Fixtures for the import tests: valid rows to vary (the migrated database and its session come from
tests/keepwell/conftest.py)."""

from collections.abc import Callable
from typing import Any

import pytest

ROWS: dict[str, dict[str, Any]] = {
    "accounts": {
        "id": "acc_1",
        "name": "Copperleaf Studios",
        "plan": "growth",
        "company_size": "mid",
        "lifecycle_stage": "adoption",
        "signup_date": "2024-03-01",
        "renewal_date": "2026-03-01",
    },
    "contacts": {"external_id": "con_1", "account_id": "acc_1", "name": "Priya Okafor", "email": "priya@example.com"},
    "subscriptions": {
        "external_id": "sub_1",
        "account_id": "acc_1",
        "plan": "growth",
        "mrr": 480,
        "seats_purchased": 20,
        "seats_used": 18,
        "started_on": "2024-03-01",
        "renews_on": "2026-03-01",
    },
    "usage": {
        "account_id": "acc_1",
        "period_end": "2025-05-25",
        "period_days": 7,
        "logins": 120,
        "active_users": 15,
        "feature_adoption": 0.5,
    },
    "tickets": {"external_id": "tic_1", "account_id": "acc_1", "opened_at": "2025-05-20T10:00:00Z"},
    "surveys": {"external_id": "ans_1", "account_id": "acc_1", "kind": "nps", "score": 9, "answered_at": "2025-05-21"},
    "onboarding": {"account_id": "acc_1", "step_key": "invite-teammates", "title": "Invite teammates", "position": 2},
}


@pytest.fixture
def row() -> Callable[..., dict[str, Any]]:
    """A valid row of a kind as a dict, with fields overridden (a value of None removes the field)."""

    def _make(kind: str, /, **overrides: Any) -> dict[str, Any]:
        fields = {**ROWS[kind], **overrides}
        return {name: value for name, value in fields.items() if value is not None}

    return _make
