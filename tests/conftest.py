"""Options and fixtures shared by every test: the Rasa environment and model (from `make test`), PostgreSQL, Redis."""

import os
import uuid
from collections.abc import Iterator

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs `-n 3 --dist loadgroup`), a module runs whole on one worker, so its
    module-scoped fixtures (a Keepwell a module may break, an exported encoder) start once; and every test on the
    shared running Keepwell (the session's `system`) runs on one worker, so it starts once too."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = "system" if "system" in item.fixturenames else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards. Fails (never skips) when PostgreSQL is down."""
    url = request.config.getoption("--postgres-url")
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
