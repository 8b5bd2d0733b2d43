"""`make run`: the action server, the Rasa server and the gateway as one supervised group (honcho).

Ctrl-C, or any one process exiting, stops them all. The same command lines serve the end-to-end tests.
"""

import argparse
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from honcho.manager import Manager

from api.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]


def process_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process gets: the caller's, plus resolved locations Rasa's endpoints.yml reads."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "KEEPWELL_ACTION_ENDPOINT": f"{settings.action_server_url.rstrip('/')}/webhook",
            "KEEPWELL_ACTION_HOST": urlsplit(settings.action_server_url).hostname or "127.0.0.1",
            "KEEPWELL_ACTION_PORT": str(urlsplit(settings.action_server_url).port or 5055),
            "KEEPWELL_TRACKER_STORE_URL": settings.resolved_tracker_store_url,
            "KEEPWELL_DATA_DIR": str(settings.data_dir.resolve()),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def processes(settings: Settings, rasa_bin: str, model: Path, python: str = sys.executable) -> list[Process]:
    """The three long-running processes. Rasa and the action server listen on loopback only."""
    rasa = urlsplit(settings.rasa_url)
    rasa_argv = [rasa_bin, "run", "--model", str(model)]
    rasa_argv += ["--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml")]
    rasa_argv += ["--interface", rasa.hostname or "127.0.0.1", "--port", str(rasa.port or 5005)]
    rasa_argv += ["--enable-api", "--auth-token", settings.rasa_token]
    gateway_argv = [python, "-m", "uvicorn", "api.main:create_app", "--factory"]
    gateway_argv += ["--host", settings.host, "--port", str(settings.port), "--no-access-log"]
    return [
        Process("actions", [python, "-m", "actions.server"]),
        Process("rasa", rasa_argv),
        Process("gateway", gateway_argv),
    ]


def wait_until_ready(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll the gateway's health endpoint until every part is ready; give up early once `alive()` is False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def _announce(settings: Settings, manager: Manager, started: float) -> None:
    local = f"http://{'localhost' if settings.host in ('127.0.0.1', '0.0.0.0') else settings.host}:{settings.port}"  # noqa: S104
    if not wait_until_ready(f"{local}/api/health", timeout=600):
        print("Keepwell did not become ready within 10 minutes; see the logs above.", flush=True)
        return
    credentials = f"{settings.csm_username} / {settings.csm_password}" if settings.demo_mode else "(configured)"
    print(
        f"\n  Keepwell is ready after {time.monotonic() - started:.0f} s\n"
        f"  Website with chat widget:  {local}/\n"
        f"  In-app demo (signed in):   {local}/app\n"
        f"  Help centre:               {local}/help\n"
        f"  CSM console:               {local}/console   login {credentials}\n"
        f"  Press Ctrl-C to stop.\n",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-bin", required=True, help="the rasa executable of the Python 3.10 environment")
    parser.add_argument("--model", type=Path, required=True, help="trained Rasa model (.tar.gz)")
    args = parser.parse_args(argv)
    settings = get_settings()
    env = process_env(settings)
    manager = Manager()
    for process in processes(settings, args.rasa_bin, args.model):
        manager.add_process(process.name, shlex.join(process.argv), env=env, cwd=str(ROOT))
    threading.Thread(target=_announce, args=(settings, manager, time.monotonic()), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
