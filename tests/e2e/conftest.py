"""A real Keepwell: the Rasa server, the action server and the gateway started as `make run` starts them."""

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.launcher import ROOT, process_env, processes, wait_until_ready
from api.settings import Settings

IDENTITY_SECRET = "e2e-identity-secret"


@dataclass(frozen=True)
class RunningSystem:
    base_url: str
    settings: Settings
    logs: Path

    def chat(self, message: str, **fields: object) -> httpx.Response:
        return httpx.post(f"{self.base_url}/api/chat", json={"message": message, **fields}, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@pytest.fixture(scope="session")
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    rasa_bin, model = request.config.getoption("--rasa-bin"), request.config.getoption("--rasa-model")
    if not rasa_bin or not model:
        pytest.fail("end-to-end tests need --rasa-bin and --rasa-model; run them with `make test`")
    data_dir = tmp_path_factory.mktemp("keepwell-data")
    gateway_port = _free_port()
    overrides = {
        "KEEPWELL_DEMO_MODE": "true",
        "KEEPWELL_DATA_DIR": str(data_dir),
        "KEEPWELL_PORT": str(gateway_port),
        "KEEPWELL_RASA_URL": f"http://127.0.0.1:{_free_port()}",
        "KEEPWELL_ACTION_SERVER_URL": f"http://127.0.0.1:{_free_port()}",
        "KEEPWELL_IDENTITY_SECRET": IDENTITY_SECRET,
        "KEEPWELL_RASA_TOKEN": "e2e-rasa-token",
        "KEEPWELL_RATE_LIMIT_ENABLED": "false",
    }
    settings = Settings(**{key.removeprefix("KEEPWELL_").lower(): value for key, value in overrides.items()})
    env = process_env(settings)
    env.update(overrides)
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    for process in processes(settings, rasa_bin, Path(model).resolve()):
        log = data_dir / f"{process.name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(process.argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append((popen, log))
    base_url = f"http://127.0.0.1:{gateway_port}"
    try:
        alive = lambda: all(popen.poll() is None for popen, _ in started)  # noqa: E731
        if not wait_until_ready(f"{base_url}/api/health", timeout=420, alive=alive):
            logs = "\n\n".join(f"--- {log.name}\n{_tail(log)}" for _, log in started)
            pytest.fail(f"Keepwell did not become ready:\n{logs}")
        yield RunningSystem(base_url, settings, data_dir)
    finally:
        for popen, _ in started:
            popen.terminate()
        deadline = time.monotonic() + 20
        for popen, _ in started:
            try:
                popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                popen.kill()
