"""A client of a running supervisord over its private unix socket: what `supervisorctl status` sees, for code."""

import configparser
import socket
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport


@dataclass(frozen=True)
class ProgramStatus:
    """One program as supervisord sees it. `state`: STARTING, RUNNING, BACKOFF, EXITED, STOPPING, STOPPED, FATAL."""

    name: str
    state: str
    pid: int
    description: str
    started_at: float
    stopped_at: float

    @property
    def alive(self) -> bool:
        return self.pid > 0 and self.state in ("STARTING", "RUNNING", "STOPPING")


class Supervisor:
    """Asks supervisord (XML-RPC, the interface supervisorctl uses) about its programs. One connection per call."""

    def __init__(self, server_url: str, username: str | None = None, password: str | None = None) -> None:
        self.server_url = server_url
        self._username, self._password = username, password

    @classmethod
    def from_config(cls, config_path: Path) -> "Supervisor":
        """Connect as `supervisorctl -c config_path` would: its [supervisorctl] section names socket and login."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(config_path)
        section = parser["supervisorctl"]

        def value(key: str) -> str | None:
            raw = section.get(key)
            return None if raw is None else raw.replace("%%", "%")

        return cls(value("serverurl") or "", value("username"), value("password"))

    def _call(self, method: str, *args: Any) -> Any:
        # The URL's host is ignored: the transport talks to the unix socket. Closed after each call.
        transport = SupervisorTransport(self._username, self._password, self.server_url)
        try:
            proxy = xmlrpc.client.ServerProxy("http://localhost", transport=transport)
            return getattr(proxy.supervisor, method)(*args)
        finally:
            transport.close()

    def status(self) -> dict[str, ProgramStatus]:
        return {info["name"]: _status(info) for info in self._call("getAllProcessInfo")}

    def program(self, name: str) -> ProgramStatus:
        return _status(self._call("getProcessInfo", name))

    def pid(self, name: str) -> int:
        """The program's pid, 0 while it is not running."""
        return self.program(name).pid

    def supervisord_pid(self) -> int:
        return int(self._call("getPID"))

    def state(self) -> str:
        """supervisord's own state: RUNNING, or SHUTDOWN while it stops everything."""
        return str(self._call("getState")["statename"])


def _status(info: dict[str, Any]) -> ProgramStatus:
    return ProgramStatus(
        name=info["name"],
        state=info["statename"],
        pid=int(info["pid"]),
        description=info["description"],
        started_at=float(info["start"]),
        stopped_at=float(info["stop"]),
    )


def is_listening(socket_path: Path) -> bool:
    """Whether a supervisord (or anything) answers on this unix socket; a stale socket file left by a killed one
    does not count."""
    if not socket_path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
    return True
