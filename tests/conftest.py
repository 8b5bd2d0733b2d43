"""Options and fixtures shared by every test: the Rasa environment and model (from `make test`), PostgreSQL, Redis."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import Engine, text

from keepwell.db import dispose_engine, make_engine


def pytest_configure(config: pytest.Config) -> None:
    # Tests build demo-mode settings unless they say otherwise (the product's default is off).
    os.environ.setdefault("KEEPWELL_DEMO_MODE", "true")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rasa-bin", default=None, help="rasa executable of the Python 3.10 environment")
    parser.addoption("--rasa-model", default=None, help="trained Rasa model (.tar.gz)")
    parser.addoption(
        "--postgres-url",
        default="postgresql://127.0.0.1:5432/test",
        help="a PostgreSQL database the scale-out tests may create throwaway schemas in",
    )
    parser.addoption(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="a Redis the shared-store tests may write throwaway keys in",
    )


# Test modules that start Keepwells of their own to break (tests/e2e/conftest.py `make_system`); every other module
# under tests/e2e talks to the shared running Keepwell (`system`).
OWN_KEEPWELL = frozenset({"tests/e2e/test_faults.py", "tests/e2e/test_supervision.py"})
SHARED_KEEPWELL = "tests/e2e (the shared running Keepwell)"


def work_unit(nodeid: str) -> str:
    """What one xdist worker runs whole: a test module, or every module on the shared running Keepwell."""
    module = nodeid.split("::", 1)[0]
    return SHARED_KEEPWELL if module.startswith("tests/e2e/") and module not in OWN_KEEPWELL else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`make test` runs `-n 3 --dist loadscope`: a module stays on one worker, so its module-scoped fixtures start
    once, and every test on the shared running Keepwell stays on one worker, so it starts once (a Keepwell costs a
    minute of both cores)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The work units above hold only while the shared Keepwell's tests all sit where `work_unit` looks for them."""
    for item in items:
        shared = work_unit(item.nodeid) == SHARED_KEEPWELL
        if ("system" in item.fixturenames and not shared) or ("make_system" in item.fixturenames and shared):
            raise pytest.UsageError(
                f"{item.nodeid}: tests on the shared running Keepwell (`system`) live in tests/e2e; modules that "
                "start their own (`make_system`) are listed in OWN_KEEPWELL in tests/conftest.py"
            )


@contextmanager
def postgres_schema(url: str) -> Iterator[Engine]:
    """An engine on a fresh schema of the PostgreSQL at `url`, dropped afterwards with everything in it."""
    schema = f"kw_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    schema_url = f"{url}?options=-csearch_path%3D{schema}"
    engine = make_engine(schema_url)
    try:
        yield engine
    finally:
        engine.dispose()
        # The app or a CLI under test may have opened the process's shared engine on this schema too.
        for shared in {schema_url, engine.url.render_as_string(hide_password=False)}:
            dispose_engine(shared)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards. Fails (never skips) when PostgreSQL is down."""
    with postgres_schema(request.config.getoption("--postgres-url")) as engine:
        yield engine


@pytest.fixture
def redis_store(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A Redis URL and a fresh key prefix; every key under the prefix is deleted afterwards. Fails (never skips)
    when Redis is down."""
    url = request.config.getoption("--redis-url")
    prefix = f"kw_test_{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(url)
    client.ping()
    try:
        yield url, prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
