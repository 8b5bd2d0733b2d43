"""A real Keepwell for end-to-end tests, started by the launcher exactly as `make run` starts it (under supervisord).

Fixtures:
- `system` (session): one Keepwell shared by the read-mostly tests. Don't kill its parts.
- `make_system` (module): a factory, `make_system(**env)`, for a second, separate Keepwell that a test module may
  break (kill, hang, burst); each is stopped at the end of the module. `env` adds or overrides `KEEPWELL_*` settings.

Each system runs on free loopback ports with its own temporary data directory; its program names are `gateway`,
`rasa` and `action_server` (supervisord's, and the names `/api/health` reports). Fault tests work with
`system.pid(name)`, `system.kill(name, signal)`, `system.wait_restarted(name, old_pid)`, `system.wait_until(...)`,
`system.status()` and `system.health()`; `system.process_ids()` lists every process of the system and
`system.stop(signal)` stops it as a person would (Ctrl-C). See `RunningSystem`.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from api.settings import Settings
from launcher.config import ROOT, Layout
from launcher.control import ProgramStatus, Supervisor
from launcher.readiness import health, wait_until_ok

IDENTITY_SECRET = "e2e-identity-secret-at-least-32-bytes"  # PyJWT warns about shorter HMAC keys
# Distinctive, so a test can look for it in every command line and log file.
RASA_TOKEN = "e2e-rasa-token-5f0c2a9d7b"
PROGRAMS = ("gateway", "rasa", "action_server")
START_TIMEOUT_S = 420
STOP_TIMEOUT_S = 90
# The health components that must be ready again before a restarted program counts as serving.
_READY_COMPONENTS = {"gateway": (), "rasa": ("rasa",), "action_server": ("action_server", "knowledge_base")}
# What `make` exports for every target (see the Makefile).
_MAKE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "RASA_CACHE_DIRECTORY": str(Path.home() / ".cache" / "keepwell" / "rasa-cache"),
}

T = TypeVar("T")


@dataclass(frozen=True)
class ProcessId:
    """A pid with its start time, so a pid the kernel reused for another process is not mistaken for ours."""

    pid: int
    started: int

    def alive(self) -> bool:
        stat = _proc_stat(self.pid)
        return stat is not None and stat["started"] == self.started and stat["state"] != "Z"


@dataclass
class RunningSystem:
    """One supervised Keepwell: the launcher, supervisord, and the gateway, Rasa and action server it runs."""

    base_url: str
    settings: Settings
    data_dir: Path
    launcher: subprocess.Popen[bytes]
    layout: Layout
    launcher_log: Path
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor.from_config(self.layout.config_path)

    @property
    def logs(self) -> Path:
        """The directory of the log files: <program>.log for each program, supervisord.log, launcher.log."""
        return self.layout.logs_dir

    def chat(self, message: str, **fields: object) -> httpx.Response:
        return httpx.post(f"{self.base_url}/api/chat", json={"message": message, **fields}, timeout=60)

    def health(self) -> dict[str, Any] | None:
        """The body of `/api/health`, or None while the gateway does not answer."""
        return health(f"{self.base_url}/api/health")

    def status(self) -> dict[str, ProgramStatus]:
        """supervisord's view of each program: state (RUNNING, STARTING, BACKOFF...), pid, since when."""
        return self.supervisor.status()

    def pid(self, name: str) -> int:
        """The program's current pid (0 while supervisord has it down)."""
        return self.supervisor.pid(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to the program's main process (SIGKILL: a crash; SIGSTOP/SIGCONT: a hang); returns its pid."""
        pid = self.pid(name)
        assert pid > 0, f"{name} is not running: {self.status()[name]}"
        os.kill(pid, sig)
        return pid

    def wait_until(
        self, predicate: Callable[[], T], timeout: float, interval: float = 0.2, message: str = "condition"
    ) -> T:
        """Call `predicate` until it returns something truthy, and return that; fail the test after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                pytest.fail(f"{message} not met within {timeout:.0f} s; status {self._describe()}")
            time.sleep(interval)

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 180) -> int:
        """Wait until supervisord has started `name` again (a new pid) and it serves again; returns the new pid.

        Serving: for Rasa and the action server, their components in `/api/health` are ready again; for the gateway,
        `/api/health` answers.
        """

        def restarted() -> int:
            try:
                program = self.supervisor.program(name)
            except OSError:
                return 0
            if not program.alive or program.pid == old_pid:
                return 0
            body = self.health()
            if body is None:
                return 0
            components = body.get("components", {})
            if all(components.get(part, {}).get("ready") for part in _READY_COMPONENTS[name]):
                return program.pid
            return 0

        return self.wait_until(restarted, timeout, message=f"{name} restarted after pid {old_pid}")

    def process_ids(self) -> set[ProcessId]:
        """Every process of this system: launcher, supervisord, the programs and anything in their process groups."""
        ids = {self.launcher.pid}
        with suppress(OSError):
            ids.add(self.supervisor.supervisord_pid())
            programs = {status.pid for status in self.status().values() if status.pid > 0}
            ids |= programs | _group_members(programs)
        return {ProcessId(pid, stat["started"]) for pid in ids if (stat := _proc_stat(pid)) is not None}

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT_S) -> int:
        """Stop the launcher as a person would (Ctrl-C: SIGINT) and wait for it; returns its exit status."""
        if self.launcher.poll() is None:
            self.launcher.send_signal(sig)
        return self.launcher.wait(timeout=timeout)

    def _describe(self) -> str:
        try:
            return ", ".join(f"{s.name} {s.state} pid {s.pid}" for s in self.status().values())
        except OSError as error:
            return f"(supervisord not answering: {error})"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_stat(pid: int) -> dict[str, Any] | None:
    """State, process group and start time (clock ticks since boot) of a process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return {"state": fields[0], "pgid": int(fields[2]), "started": int(fields[19])}


def _group_members(pgids: set[int]) -> set[int]:
    """Processes whose process group is one of `pgids` (supervisord makes each program a group leader)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) and stat["pgid"] in pgids:
            members.add(int(entry.name))
    return members


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def _options(config: pytest.Config) -> tuple[str, Path]:
    rasa_bin, model = config.getoption("--rasa-bin"), config.getoption("--rasa-model")
    if not rasa_bin or not model:
        pytest.fail("end-to-end tests need --rasa-bin and --rasa-model; run them with `make test`")
    return rasa_bin, Path(model).resolve()


@contextmanager
def running_system(rasa_bin: str, model: Path, data_dir: Path, **env: str) -> Iterator[RunningSystem]:
    """Start Keepwell with `python -m launcher` (as `make run` does), wait until `/api/health` says ok, and stop it
    with SIGINT afterwards; anything still alive after that is killed."""
    gateway_port = _free_port()
    # The articles are a copy, so a test that writes one (the console's article editor) never touches the repository.
    content = data_dir / "kb_content"
    shutil.copytree(ROOT / "knowledge_base" / "content", content)
    overrides = {
        "KEEPWELL_KB_CONTENT_DIR": str(content),
        "KEEPWELL_DEMO_MODE": "true",
        "KEEPWELL_DATA_DIR": str(data_dir),
        "KEEPWELL_PORT": str(gateway_port),
        "KEEPWELL_RASA_URL": f"http://127.0.0.1:{_free_port()}",
        "KEEPWELL_ACTION_SERVER_URL": f"http://127.0.0.1:{_free_port()}",
        "KEEPWELL_IDENTITY_SECRET": IDENTITY_SECRET,
        "KEEPWELL_RASA_TOKEN": RASA_TOKEN,
        "KEEPWELL_RATE_LIMIT_ENABLED": "false",
        **env,
    }
    settings = Settings(
        **{
            key.removeprefix("KEEPWELL_").lower(): value
            for key, value in overrides.items()
            if key.startswith("KEEPWELL_")
        }
    )
    process_env = {**os.environ, **_MAKE_ENV, **overrides}
    layout = Layout(data_dir.resolve())
    layout.logs_dir.mkdir(parents=True, exist_ok=True)
    launcher_log = layout.logs_dir / "launcher.log"
    with launcher_log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "launcher", "--rasa-bin", rasa_bin, "--model", str(model)],
            cwd=ROOT,
            env=process_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # signals meant for pytest don't reach it, and ours reach only it
        )
    base_url = f"http://127.0.0.1:{gateway_port}"
    system: RunningSystem | None = None
    try:
        if wait_until_ok(f"{base_url}/api/health", timeout=START_TIMEOUT_S, alive=lambda: launcher.poll() is None):
            system = RunningSystem(base_url, settings, data_dir, launcher, layout, launcher_log)
        else:
            pytest.fail(f"Keepwell did not become ready; the launcher's output:\n{_tail(launcher_log)}")
        yield system
    finally:
        survivors = system.process_ids() if system else set()
        for process in survivors:  # a part a test hung (SIGSTOP) must be able to stop
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
        for process in survivors:
            if process.alive():
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The shared Keepwell: for tests that talk to it; never kill or hang its parts (use `make_system`)."""
    rasa_bin, model = _options(request.config)
    with running_system(rasa_bin, model, tmp_path_factory.mktemp("keepwell-data")) as running:
        yield running


@pytest.fixture(scope="module")
def make_system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., RunningSystem]]:
    """A factory of separate Keepwells a test module may break: `make_system(KEEPWELL_REPLY_DEADLINE_S="3")`.
    Every system it made is stopped (SIGINT, then anything left is killed) when the module ends."""
    rasa_bin, model = _options(request.config)
    with ExitStack() as stack:

        def make(**env: str) -> RunningSystem:
            data_dir = tmp_path_factory.mktemp("keepwell-faults")
            return stack.enter_context(running_system(rasa_bin, model, data_dir, **env))

        yield make
