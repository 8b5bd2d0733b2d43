"""`python -m launcher` (`make run`): prepare the database, then run the gateway, Rasa and the action server under
supervisord, which restarts a process that dies (with backoff) while the others keep serving.

Ctrl-C or SIGTERM stops everything. supervisord's own lines (spawned, exited, success) show each restart; every
program's output goes to data/logs/<program>.log (rotated) and is echoed here with the program's name in front.
"""

import argparse
import ctypes
import json
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import FrameType

from api.settings import Settings, get_settings
from keepwell.bootstrap import DEMO_ADMIN, DEMO_CSM, prepare
from launcher import config, control, readiness
from launcher.output import LogEcho

READY_TIMEOUT_S = 600
_PR_SET_PDEATHSIG = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa-bin", required=True, help="the rasa executable of the Python 3.10 environment")
    parser.add_argument("--model", type=Path, required=True, help="trained Rasa model (.tar.gz)")
    parser.add_argument("--no-echo", action="store_true", help="don't echo the programs' output (see data/logs)")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model.resolve()
    if not model.is_file():
        parser.error(f"no model at {model}; train one with `make train`")
    rasa_python = config.rasa_python(args.rasa_bin)
    started = time.monotonic()

    layout = config.Layout(settings.data_dir.resolve())
    if control.is_listening(layout.socket_path):
        parser.exit(1, f"Keepwell is already running with {layout.data_dir} (supervisord at {layout.socket_path}).\n")

    print("Preparing the database (migrations, demo data)...", flush=True)
    prepare(settings)
    layout.create()
    programs = config.programs(settings, layout, rasa_python, model)
    layout.gateway_logging_path.write_text(json.dumps(config.gateway_logging(), indent=2))
    # Created 0600 before the per-run password goes in.
    layout.config_path.touch(mode=0o600)
    layout.config_path.chmod(0o600)
    layout.config_path.write_text(config.supervisord_config(programs, layout, secrets.token_urlsafe(24)))
    env = config.process_env(settings, config.rasa_token(settings))
    echo = None if args.no_echo else LogEcho({p.name: layout.log_path(p.name) for p in programs})
    return _supervise(settings, layout, env, echo, started)


def _supervise(
    settings: Settings, layout: config.Layout, env: dict[str, str], echo: LogEcho | None, started: float
) -> int:
    """Run supervisord in the foreground until it ends; SIGINT, SIGTERM and SIGHUP make it stop everything first."""
    supervisord = subprocess.Popen(  # noqa: S603 - this interpreter, supervisor, the config just written
        [sys.executable, "-m", "supervisor.supervisord", "--nodaemon", "--configuration", str(layout.config_path)],
        cwd=config.ROOT,
        env=env,
        # Its own session: a terminal's Ctrl-C reaches this process only, which asks supervisord once.
        start_new_session=True,
        preexec_fn=_stop_with_parent,  # safe: no other thread exists yet
    )
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            print(f"\n{signal.Signals(signum).name}: stopping Keepwell...", flush=True)
        stopping.set()
        with suppress(ProcessLookupError):
            supervisord.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    if echo:
        echo.start()
    alive = lambda: supervisord.poll() is None and not stopping.is_set()  # noqa: E731
    threading.Thread(target=_announce, args=(settings, layout, alive, started), daemon=True).start()
    code = supervisord.wait()
    if echo:
        echo.stop()
    if stopping.is_set():
        print("Keepwell stopped.", flush=True)
        return 0 if code == 0 else code
    print(f"supervisord ended by itself (exit status {code}); see {layout.log_path('supervisord')}", flush=True)
    return code or 1


def _stop_with_parent() -> None:
    """In supervisord, before exec: get SIGTERM if the launcher dies without stopping it (Linux only)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _urls(settings: Settings) -> tuple[str, str]:
    """The address shown to people, and the one polled from here (a wildcard listen address is polled on loopback)."""
    wildcard = settings.host in ("0.0.0.0", "::")  # noqa: S104 - compared, not bound
    shown = "localhost" if wildcard or settings.host == "127.0.0.1" else settings.host
    polled = "127.0.0.1" if wildcard else settings.host
    return _url(shown, settings.port), _url(polled, settings.port)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _announce(settings: Settings, layout: config.Layout, alive: Callable[[], bool], started: float) -> None:
    """Print the banner once `/api/health` says ok (every part ready), or why not after `READY_TIMEOUT_S`."""
    shown, polled = _urls(settings)
    if readiness.wait_until_ok(f"{polled}/api/health", timeout=READY_TIMEOUT_S, alive=alive) is None:
        if alive():
            body = readiness.health(f"{polled}/api/health") or {}
            detail = body.get("detail", "the gateway does not answer")
            print(f"Keepwell is not ready after {READY_TIMEOUT_S} s: {detail}", flush=True)
        return
    if settings.demo_mode:
        logins = (
            f"    admin login:             {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}\n"
            f"    CSM login:               {DEMO_CSM[0]} / {DEMO_CSM[1]}\n"
        )
    else:
        logins = "    accounts:                python -m keepwell users --help\n"
    supervisorctl = f"{sys.executable} -m supervisor.supervisorctl -c {layout.config_path}"
    print(
        f"\n  Keepwell is ready after {time.monotonic() - started:.0f} s\n"
        f"  Website with chat widget:  {shown}/\n"
        f"  In-app demo (signed in):   {shown}/app\n"
        f"  Help centre:               {shown}/help\n"
        f"  CSM console:               {shown}/console\n"
        f"{logins}"
        f"  Logs:                      {layout.logs_dir}/<program>.log\n"
        f"  Processes:                 {supervisorctl} status\n"
        f"  Press Ctrl-C to stop.\n",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
