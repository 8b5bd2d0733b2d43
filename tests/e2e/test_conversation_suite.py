"""The conversation suite (tests/conversations) against the real gateway, Rasa and action server.

`make bench` plays all of it and prints the pass rates by category, dev and held-out apart, with every failing turn;
it measures and never fails on a rate. `make test` plays the smoke subset (30 dev conversations, every category),
which must pass in full: a guard against answers that used to be right going wrong.
"""

import time

import pytest

from tests.conversations.report import format_failures, format_summary, summarise
from tests.conversations.runner import Runner
from tests.conversations.suite import load_suite, smoke_subset
from tests.e2e.conftest import IDENTITY_SECRET, RunningSystem

pytestmark = pytest.mark.e2e


def _runner(system: RunningSystem) -> Runner:
    return Runner(system.base_url, system.settings.resolved_database_url, IDENTITY_SECRET)


@pytest.mark.bench
@pytest.mark.timeout(3600)  # a few hundred conversations; the default 900 s is for single tests
def test_the_whole_suite_pass_rates_by_category(system: RunningSystem) -> None:
    conversations = load_suite()
    started = time.monotonic()
    with _runner(system) as runner:
        results = runner.play_all(conversations)
    elapsed = time.monotonic() - started
    turns = sum(len(r.turns) for r in results)
    print(f"\n{format_failures(results)}\n\n{format_summary(summarise(results))}")
    print(f"\n{len(results)} conversations, {turns} turns in {elapsed:.0f} s")
    assert all(t.observation.error is None for r in results for t in r.turns), "turns the gateway did not take"


@pytest.mark.conversations
def test_the_smoke_subset_passes_every_turn(system: RunningSystem) -> None:
    with _runner(system) as runner:
        results = runner.play_all(smoke_subset(load_suite(halves=("dev",))))
    failing = [r for r in results if not r.passed]
    assert not failing, format_failures(failing)
