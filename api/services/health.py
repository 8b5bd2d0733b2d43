"""Health of the parts the gateway depends on: Rasa, the action server with its knowledge base, the app database."""

import asyncio
from dataclasses import dataclass
from typing import Literal

import httpx
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from api.services.rasa import RasaClient

# Each probe answers within this many seconds: a hung part (SIGSTOP, deadlock) is reported, never waited for.
PROBE_TIMEOUT_S = 3.0

Status = Literal["ok", "degraded", "unavailable"]


@dataclass(frozen=True)
class PartHealth:
    ready: bool
    detail: str


@dataclass(frozen=True)
class Health:
    """`ok` when every part is ready; `degraded` when the gateway serves but a part is down (chat answers with the
    notice); `unavailable` when the gateway's own database cannot be reached."""

    status: Status
    parts: dict[str, PartHealth]

    @property
    def down(self) -> list[str]:
        return [name for name, part in self.parts.items() if not part.ready]


async def check(rasa: RasaClient, action_server_url: str, engine: Engine) -> Health:
    """Probe every part at once; the whole check takes at most about `PROBE_TIMEOUT_S`."""
    (rasa_ready, rasa_detail), actions, database = await asyncio.gather(
        rasa.status(), _action_server(action_server_url), _database(engine)
    )
    parts = {"rasa": PartHealth(rasa_ready, rasa_detail), **actions, "database": database}
    status: Status
    if not database.ready:
        status = "unavailable"
    elif all(part.ready for part in parts.values()):
        status = "ok"
    else:
        status = "degraded"
    return Health(status, parts)


async def _action_server(base_url: str) -> dict[str, PartHealth]:
    """The action server's `/ready` reports itself and the knowledge base it loaded."""
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=PROBE_TIMEOUT_S) as client:
            response = await client.get("/ready")
    except httpx.TimeoutException as error:
        return _actions_down(f"not answering ({error.__class__.__name__})")
    except httpx.HTTPError as error:
        return _actions_down(f"not reachable ({error.__class__.__name__})")
    if response.status_code not in (200, 503):
        return _actions_down(f"ready answered {response.status_code}")
    try:
        kb = response.json().get("knowledge_base", {})
    except (ValueError, AttributeError):
        return _actions_down("ready answered with an unexpected body")
    return {
        "action_server": PartHealth(True, "up"),
        "knowledge_base": PartHealth(bool(kb.get("ready")), str(kb.get("detail", ""))),
    }


def _actions_down(detail: str) -> dict[str, PartHealth]:
    return {
        "action_server": PartHealth(False, detail),
        "knowledge_base": PartHealth(False, "unknown: the action server is down"),
    }


async def _database(engine: Engine) -> PartHealth:
    def select_one() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(run_in_threadpool(select_one), timeout=PROBE_TIMEOUT_S)
    except TimeoutError:
        return PartHealth(False, "not answering (timeout)")
    except Exception as error:  # reported, not raised: health must always answer
        return PartHealth(False, f"not reachable ({error.__class__.__name__})")
    return PartHealth(True, "up")
