"""Schemathesis over the gateway's OpenAPI schema, against the real Keepwell (gateway, Rasa and action server).

Every operation of the schema is fuzzed with Schemathesis' default checks: no 5xx, only documented status codes,
documented content types and headers, bodies that fit their schema, invalid input refused and valid input accepted.
Stateful runs follow the schema's links (a chat answer's conversation -> its history and its event stream), so the
history and the stream are also reached for real conversations, not only refused for random ids.

`make test` runs a few hundred cases; `make bench` (`-m bench`) at least 2,000; the counts are printed at the end.
Generation is derandomized and keeps no example database, so CI runs the same cases each time.
"""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, Response
from schemathesis.core.failures import FailureGroup

from api.main import create_app
from api.settings import Settings
from tests.e2e.conftest import RunningSystem

pytestmark = pytest.mark.e2e

# Hypothesis examples per operation (the coverage phase adds its own deterministic cases on top), and stateful
# scenarios (a few linked calls each). About 300 cases in all for `make test`, well over 2,000 for `make bench`.
TEST_EXAMPLES, TEST_SCENARIOS = 45, 15
BENCH_EXAMPLES, BENCH_SCENARIOS = 600, 120
BENCH_MINIMUM_CASES = 2000
# An event stream stays open: Schemathesis reads it until it has been silent this long (the gateway pings every
# 15 s), then judges the events it got. Other calls wait long enough for a chat turn past its reply deadline.
STREAM_READ_S = 1.0
CALL_TIMEOUT_S = 30.0


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,  # a chat turn through Rasa takes what it takes; speed is measured elsewhere
        derandomize=True,  # the same cases on every run
        database=None,  # no example database written into the repository
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        stateful_step_count=6,
        print_blob=False,
    )


@dataclass
class Tally:
    """What the fuzzing sent and got back, printed at the end of the module."""

    started: float = field(default_factory=time.monotonic)
    answered: Counter[tuple[str, int]] = field(default_factory=Counter)
    # Who answered the chat messages that were accepted: the bot through Rasa, or the gateway's notice ("system").
    replies: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.answered.values()) + len(self.failures)

    def record(self, case: Case, response: Response) -> None:
        self.answered[(_label(case), response.status_code)] += 1
        if _label(case) == "POST /api/chat" and response.status_code == 200:
            self.replies.update(message["role"] for message in response.json()["messages"])

    @contextmanager
    def checking(self, case: Case) -> Iterator[None]:
        """Note a case whose response failed a check (Hypothesis replays it while shrinking: counted each time)."""
        try:
            yield
        except FailureGroup as error:
            checks = sorted({type(failure).__name__ for failure in error.exceptions})
            self.failures.append(f"{_label(case)}: {', '.join(checks)}")
            raise

    def report(self) -> str:
        lines = [f"schemathesis: {self.total} cases in {time.monotonic() - self.started:.0f} s"]
        for operation in sorted({operation for operation, _ in self.answered}):
            statuses = {status: n for (op, status), n in sorted(self.answered.items()) if op == operation}
            counts = ", ".join(f"{status}: {n}" for status, n in statuses.items())
            lines.append(f"  {operation}: {sum(statuses.values())} ({counts})")
        lines.append(f"  replies to accepted chat messages: {dict(sorted(self.replies.items()))}")
        server_errors = sum(n for (_, status), n in self.answered.items() if status >= 500)
        lines.append(f"  5xx: {server_errors}; cases that failed a check: {len(self.failures)}")
        lines.extend(f"  FAILED {failure}" for failure in self.failures[:20])
        return "\n".join(lines)


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """The module's counts, written to the terminal at its end (with or without `-s`)."""
    counts = Tally()
    yield counts
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n{counts.report()}")


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


# The schema the gateway publishes, built from its code when the module loads: `schema.parametrize()` needs it
# at collection, before the system runs (Schemathesis' fixture-based loader, `schemathesis.pytest.from_fixture`,
# does not work with pytest 9.2). `test_the_running_gateway_publishes_this_schema` checks that it is the served one.
DOCUMENT = create_app(Settings(demo_mode=True, host="127.0.0.1")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_running_gateway_publishes_this_schema(system: RunningSystem) -> None:
    assert requests.get(f"{system.base_url}/openapi.json", timeout=10).json() == DOCUMENT


def _timeout(case: Case) -> float:
    return STREAM_READ_S if case.operation.path.endswith("/events") else CALL_TIMEOUT_S


def _label(case: Case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _call_kwargs(case: Case, system: RunningSystem, http: requests.Session) -> dict[str, Any]:
    return {"base_url": system.base_url, "session": http, "timeout": _timeout(case)}


def _fuzz(case: Case, system: RunningSystem, http: requests.Session, tally: Tally) -> None:
    with tally.checking(case):
        response = case.call_and_validate(**_call_kwargs(case, system, http))
    tally.record(case, response)


@schema.parametrize()
@_settings(TEST_EXAMPLES)
def test_every_operation_holds_to_its_schema(
    case: Case, system: RunningSystem, http: requests.Session, tally: Tally
) -> None:
    _fuzz(case, system, http, tally)


@pytest.mark.bench
@schema.parametrize()
@_settings(BENCH_EXAMPLES)
def test_bench_every_operation_holds_to_its_schema(
    case: Case, system: RunningSystem, http: requests.Session, tally: Tally
) -> None:
    _fuzz(case, system, http, tally)


def _run_scenarios(system: RunningSystem, http: requests.Session, tally: Tally, scenarios: int) -> None:
    """Chains of linked calls: chat, then the conversation's history or its events."""

    class Conversations(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return _call_kwargs(case, system, http)

        def validate_response(self, response: Response, case: Case, *args: Any, **kwargs: Any) -> None:
            with tally.checking(case):
                super().validate_response(response, case, *args, **kwargs)
            tally.record(case, response)

    Conversations.run(settings=_settings(scenarios))


def test_linked_calls_hold_to_the_schema(system: RunningSystem, http: requests.Session, tally: Tally) -> None:
    _run_scenarios(system, http, tally, TEST_SCENARIOS)


@pytest.mark.bench
def test_bench_linked_calls_hold_to_the_schema(system: RunningSystem, http: requests.Session, tally: Tally) -> None:
    _run_scenarios(system, http, tally, BENCH_SCENARIOS)


@pytest.mark.bench
def test_bench_ran_enough_cases(tally: Tally) -> None:
    """Runs after the bench fuzzing above (file order): the bench must have sent at least 2,000 cases."""
    assert tally.total >= BENCH_MINIMUM_CASES, tally.report()
