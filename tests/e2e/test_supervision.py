"""Supervision against the real processes: a killed part is restarted while the others keep serving, Ctrl-C stops
everything, and Rasa's token is in no command line and no log. Run with `-s` to see the measured restart times."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from launcher.config import rasa_python
from tests.e2e.conftest import RASA_TOKEN, RunningSystem

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def keepwell(make_system: Callable[..., RunningSystem]) -> RunningSystem:
    """A Keepwell of this module's own: its parts get killed."""
    return make_system()


def _report(name: str, killed_at: float, spawned_at: float, serving_at: float) -> None:
    print(
        f"\n[restart] {name}: SIGKILL -> new process spawned {spawned_at - killed_at:.1f} s, "
        f"serving again {serving_at - killed_at:.1f} s"
    )


def _others(keepwell: RunningSystem, name: str) -> dict[str, int]:
    return {other: status.pid for other, status in keepwell.status().items() if other != name}


def _kill_and_measure(keepwell: RunningSystem, name: str) -> tuple[int, float, float, float]:
    """SIGKILL the program; returns its new pid and when it was killed, respawned and serving (monotonic)."""
    old_pid = keepwell.pid(name)
    killed_at = time.monotonic()
    keepwell.kill(name, signal.SIGKILL)
    keepwell.wait_until(lambda: keepwell.pid(name) not in (0, old_pid), timeout=60, interval=0.05, message="respawn")
    spawned_at = time.monotonic()
    new_pid = keepwell.wait_restarted(name, old_pid, timeout=240)
    return new_pid, killed_at, spawned_at, time.monotonic()


def test_killed_action_server_is_restarted_while_the_gateway_and_rasa_serve(keepwell: RunningSystem) -> None:
    others = _others(keepwell, "action_server")
    old_pid = keepwell.pid("action_server")
    killed_at = time.monotonic()
    keepwell.kill("action_server", signal.SIGKILL)

    # Meanwhile: the gateway answers, Rasa stays ready, and health names the part that is down.
    degraded = keepwell.wait_until(
        lambda: (body := keepwell.health()) and body["status"] == "degraded" and body, timeout=30, interval=0.1
    )
    assert "action_server" in degraded["down"]
    assert "rasa" not in degraded["down"]
    assert degraded["components"]["rasa"]["ready"] is True
    assert httpx.get(f"{keepwell.base_url}/", timeout=10).status_code == 200

    keepwell.wait_until(lambda: keepwell.pid("action_server") not in (0, old_pid), timeout=60, interval=0.05)
    spawned_at = time.monotonic()
    new_pid = keepwell.wait_restarted("action_server", old_pid, timeout=240)
    _report("action_server", killed_at, spawned_at, time.monotonic())
    assert keepwell.wait_until(lambda: (body := keepwell.health()) and body["status"] == "ok", timeout=30)
    assert keepwell.status()["action_server"].pid == new_pid
    assert _others(keepwell, "action_server") == others  # only the part that died was restarted
    assert (
        "exited: action_server (terminated by SIGKILL; not expected)" in (keepwell.logs / "supervisord.log").read_text()
    )


def test_killed_rasa_is_restarted_while_the_gateway_and_action_server_serve(keepwell: RunningSystem) -> None:
    others = _others(keepwell, "rasa")
    old_pid = keepwell.pid("rasa")
    killed_at = time.monotonic()
    keepwell.kill("rasa", signal.SIGKILL)

    degraded = keepwell.wait_until(
        lambda: (body := keepwell.health()) and body["status"] == "degraded" and body, timeout=30, interval=0.1
    )
    assert degraded["down"] == ["rasa"]
    assert degraded["components"]["action_server"]["ready"] is True

    keepwell.wait_until(lambda: keepwell.pid("rasa") not in (0, old_pid), timeout=60, interval=0.05)
    spawned_at = time.monotonic()
    keepwell.wait_restarted("rasa", old_pid, timeout=240)
    _report("rasa", killed_at, spawned_at, time.monotonic())
    assert keepwell.wait_until(lambda: (body := keepwell.health()) and body["status"] == "ok", timeout=30)
    assert "exited: rasa (terminated by SIGKILL; not expected)" in (keepwell.logs / "supervisord.log").read_text()
    assert _others(keepwell, "rasa") == others


def test_killed_gateway_is_restarted(keepwell: RunningSystem) -> None:
    others = _others(keepwell, "gateway")
    new_pid, killed_at, spawned_at, serving_at = _kill_and_measure(keepwell, "gateway")
    _report("gateway", killed_at, spawned_at, serving_at)
    assert keepwell.wait_until(lambda: (body := keepwell.health()) and body["status"] == "ok", timeout=30)
    assert keepwell.status()["gateway"].pid == new_pid
    assert _others(keepwell, "gateway") == others


def test_supervisord_and_the_launcher_lived_through_the_kills(keepwell: RunningSystem) -> None:
    assert keepwell.launcher.poll() is None
    assert keepwell.supervisor.state() == "RUNNING"
    assert {status.state for status in keepwell.status().values()} <= {"STARTING", "RUNNING"}


def test_rasa_token_is_in_no_command_line(keepwell: RunningSystem) -> None:
    seen = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        seen += 1
        assert RASA_TOKEN.encode() not in cmdline, f"pid {entry.name}: {cmdline!r}"
    assert seen > 3
    rasa_cmdline = Path(f"/proc/{keepwell.pid('rasa')}/cmdline").read_bytes()
    assert b"launcher.rasa_server" in rasa_cmdline
    assert b"--auth-token" not in rasa_cmdline


def test_rasa_api_needs_the_token(keepwell: RunningSystem) -> None:
    """The token Rasa got from its environment is the one it enforces."""
    status = f"{keepwell.settings.rasa_url}/status"
    assert httpx.get(status, timeout=10).status_code == 401
    assert httpx.get(status, params={"token": "wrong"}, timeout=10).status_code == 401
    assert httpx.get(status, params={"token": RASA_TOKEN}, timeout=10).status_code == 200


def test_rasa_token_is_in_no_log(keepwell: RunningSystem) -> None:
    # The health checks above called Rasa's API (`/status?token=...`) many times; so did this chat.
    assert keepwell.chat("hello").status_code < 500
    logs = [path for path in keepwell.data_dir.rglob("*") if path.is_file() and ".log" in path.name]
    assert {"gateway.log", "rasa.log", "action_server.log", "supervisord.log", "launcher.log"} <= {
        path.name for path in logs
    }
    for path in logs:
        assert RASA_TOKEN not in path.read_text(errors="replace"), path


def test_rasa_wrapper_refuses_to_start_without_a_token(request: pytest.FixtureRequest) -> None:
    python = rasa_python(request.config.getoption("--rasa-bin"))
    env = {key: value for key, value in os.environ.items() if key != "KEEPWELL_RASA_TOKEN"}
    result = subprocess.run(
        [str(python), "-m", "launcher.rasa_server", "--enable-api"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "KEEPWELL_RASA_TOKEN is not set" in result.stderr


def test_sigint_to_the_launcher_stops_every_process(keepwell: RunningSystem) -> None:
    """Ctrl-C: the launcher, supervisord, the three programs and anything they started all end (runs last)."""
    processes = keepwell.process_ids()
    assert len(processes) >= 5  # launcher, supervisord, gateway, rasa, action server
    started = time.monotonic()
    assert keepwell.stop(signal.SIGINT) == 0
    print(f"\n[stop] SIGINT -> every process ended in {time.monotonic() - started:.1f} s")
    left = {process.pid for process in processes if process.alive()}
    assert not left, f"still running after Ctrl-C: {left}"
    assert "Keepwell stopped." in (keepwell.logs / "launcher.log").read_text()
