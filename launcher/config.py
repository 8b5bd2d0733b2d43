"""What `python -m launcher` hands supervisord: the three programs, their restart policy, environment and logs."""

import configparser
import hashlib
import io
import os
import pwd
import secrets
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from api.settings import PLACEHOLDER_RASA_TOKEN, Settings, is_loopback

ROOT = Path(__file__).resolve().parent.parent

# Restart policy. A process that dies after it has been up `startsecs` (RUNNING -> EXITED) is restarted at once; one
# that dies sooner is in BACKOFF and retried after 1 s, 2 s, 3 s ... (supervisor adds a second per failed try) until
# `START_RETRIES` tries in a row have failed, then left FATAL. 60 tries keep a crash-looping part retried for about
# half an hour (the last waits a minute) instead of giving up after supervisor's default of 3 tries in 6 seconds.
START_RETRIES = 60
# Per-program log files under data/logs, rotated by supervisord.
LOG_MAX_BYTES = "10MB"
LOG_BACKUPS = 5
# Unix socket paths are limited to 108 bytes (sun_path); a deep data directory falls back to a private temp dir.
_MAX_SOCKET_PATH = 100
CONTROL_USER = "keepwell"


@dataclass(frozen=True)
class Program:
    """One supervised process. `startsecs`: how long it must stay up for a start to count as a success."""

    name: str
    argv: list[str]
    startsecs: int
    stopwaitsecs: int
    priority: int
    # Added to the environment supervisord passes on (never secrets: they would sit in the config file).
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """Where a running Keepwell keeps supervisor's files: config, socket and pid file in run/ (mode 0700, only the
    owner may talk to supervisord), one log file per program in logs/."""

    data_dir: Path

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def config_path(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def gateway_logging_path(self) -> Path:
        return self.run_dir / "gateway-logging.json"

    @property
    def pid_path(self) -> Path:
        return self.run_dir / "supervisord.pid"

    @property
    def socket_path(self) -> Path:
        socket = self.run_dir / "supervisor.sock"
        if len(str(socket)) <= _MAX_SOCKET_PATH:
            return socket
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"keepwell-{os.getuid()}-{digest}" / "supervisor.sock"

    def log_path(self, program: str) -> Path:
        return self.logs_dir / f"{program}.log"

    def create(self) -> None:
        """Create the directories; the ones holding the socket are private to this user."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for directory in {self.run_dir, self.socket_path.parent}:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            status = directory.stat()
            if status.st_uid != os.getuid():
                raise SystemExit(f"{directory} belongs to another user; refusing to put supervisor's socket there")
            directory.chmod(0o700)


def rasa_python(rasa_bin: str) -> Path:
    """The Python of Rasa's environment: the `python` next to the rasa executable (symlinks kept: it is a venv)."""
    located = shutil.which(rasa_bin) or rasa_bin
    python = Path(os.path.abspath(located)).parent / "python"
    if not python.exists():
        raise SystemExit(f"no python next to the rasa executable {rasa_bin} (looked for {python})")
    return python


def rasa_token(settings: Settings) -> str:
    """The token of Rasa's HTTP API. Demo mode's well-known placeholder is replaced by a fresh one for each run."""
    if settings.rasa_token == PLACEHOLDER_RASA_TOKEN:
        return secrets.token_urlsafe(32)
    return settings.rasa_token


def process_env(settings: Settings, token: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of supervisord and so of every program: the caller's, plus resolved locations (Rasa's
    endpoints.yml reads them) and Rasa's token, which travels in the environment, never on a command line."""
    env = dict(os.environ if base is None else base)
    actions = urlsplit(settings.action_server_url)
    env.update(
        {
            "KEEPWELL_ACTION_ENDPOINT": f"{settings.action_server_url.rstrip('/')}/webhook",
            "KEEPWELL_ACTION_HOST": actions.hostname or "127.0.0.1",
            "KEEPWELL_ACTION_PORT": str(actions.port or 5055),
            "KEEPWELL_TRACKER_STORE_URL": settings.resolved_tracker_store_url,
            "KEEPWELL_DATA_DIR": str(settings.data_dir.resolve()),
            "KEEPWELL_RASA_TOKEN": token,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def programs(
    settings: Settings, layout: Layout, rasa_python: Path, model: Path, python: str = sys.executable
) -> list[Program]:
    """The gateway, Rasa and the action server. Rasa and the action server listen on loopback only."""
    rasa, actions = urlsplit(settings.rasa_url), urlsplit(settings.action_server_url)
    for name, url in (("KEEPWELL_RASA_URL", rasa), ("KEEPWELL_ACTION_SERVER_URL", actions)):
        if not is_loopback(url.hostname or ""):
            raise SystemExit(f"{name} must name a loopback address (the launcher's Rasa and actions are private)")
    rasa_argv = [str(rasa_python), "-m", "launcher.rasa_server", "--model", str(model)]
    rasa_argv += ["--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml")]
    rasa_argv += ["--interface", rasa.hostname or "127.0.0.1", "--port", str(rasa.port or 5005), "--enable-api"]
    gateway_argv = [python, "-m", "uvicorn", "api.main:create_app", "--factory"]
    gateway_argv += ["--host", settings.host, "--port", str(settings.port), "--no-access-log"]
    # Forwarded headers are the app's business (KEEPWELL_TRUSTED_PROXIES); uvicorn would otherwise believe them from
    # any local process.
    gateway_argv += ["--no-proxy-headers"]
    gateway_argv += ["--log-config", str(layout.gateway_logging_path), "--timeout-graceful-shutdown", "5"]
    # startsecs: long enough that a process dying while it loads (a bad model, a missing index, a port in use) counts
    # as a failed start and backs off; short enough that a healthy one is RUNNING soon after it serves (measured on
    # 2 cores: gateway ~2 s, action server ~5 s with its index built, Rasa ~20 s).
    return [
        Program("action_server", [python, "-m", "actions.server"], startsecs=10, stopwaitsecs=10, priority=10),
        # Rasa 3.6's dependencies print dozens of DeprecationWarnings at import; nothing an operator can act on.
        Program(
            "rasa",
            rasa_argv,
            startsecs=20,
            stopwaitsecs=15,
            priority=20,
            environment={"PYTHONWARNINGS": "ignore::DeprecationWarning"},
        ),
        Program("gateway", gateway_argv, startsecs=3, stopwaitsecs=10, priority=30),
    ]


def supervisord_config(programs: list[Program], layout: Layout, password: str) -> str:
    """The supervisord configuration: foreground, a private unix socket for supervisorctl, one section per program.

    The socket sits in a 0700 directory; a per-run password (in this 0600 file, where supervisorctl reads it) is a
    second lock.
    """
    parser = configparser.ConfigParser(interpolation=None)
    socket = _value(layout.socket_path)
    credentials = {"username": CONTROL_USER, "password": _value(password)}
    parser["unix_http_server"] = {"file": socket, "chmod": "0700", **credentials}
    parser["supervisord"] = {
        "nodaemon": "true",
        # Running as the current user is what happens anyway; naming it silences supervisord's "running as root".
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "logfile": _value(layout.log_path("supervisord")),
        "logfile_maxbytes": LOG_MAX_BYTES,
        "logfile_backups": str(LOG_BACKUPS),
        "loglevel": "info",
        "pidfile": _value(layout.pid_path),
        "childlogdir": _value(layout.logs_dir),
        "strip_ansi": "true",
        "identifier": "keepwell",
    }
    parser["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    parser["supervisorctl"] = {"serverurl": f"unix://{socket}", **credentials}
    for program in programs:
        parser[f"program:{program.name}"] = {
            "command": _value(shlex.join(program.argv)),
            "directory": _value(ROOT),
            "priority": str(program.priority),
            "autostart": "true",
            # Restarted whatever the exit status: a part that exits is always a part that is missing.
            "autorestart": "true",
            "startsecs": str(program.startsecs),
            "startretries": str(START_RETRIES),
            "stopsignal": "TERM",
            "stopwaitsecs": str(program.stopwaitsecs),
            # Signals go to the whole process group, so whatever a program started stops (or is killed) with it.
            "stopasgroup": "true",
            "killasgroup": "true",
            "redirect_stderr": "true",
            "stdout_logfile": _value(layout.log_path(program.name)),
            "stdout_logfile_maxbytes": LOG_MAX_BYTES,
            "stdout_logfile_backups": str(LOG_BACKUPS),
        }
        if program.environment:
            parser[f"program:{program.name}"]["environment"] = _value(
                ",".join(f'{key}="{value}"' for key, value in program.environment.items())
            )
    out = io.StringIO()
    out.write("; Written by `python -m launcher` at every start; edits are overwritten.\n")
    parser.write(out)
    return out.getvalue()


def gateway_logging() -> dict[str, Any]:
    """The gateway's logging (uvicorn --log-config): one stderr handler that redacts credentials, httpx quiet."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "launcher.redaction.RedactSecrets"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["redact"],
            }
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": "INFO"},
            "uvicorn.access": {"level": "WARNING"},
            # httpx logs every request's URL at INFO, and Rasa's API takes its token in the URL (`?token=`).
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
        },
    }


def _value(value: object) -> str:
    """supervisord expands `%(name)s` in values: a literal % is written %%."""
    return str(value).replace("%", "%%")
