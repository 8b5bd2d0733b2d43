"""launcher/output.py: the programs' log files echoed to the terminal, prefixed, across supervisord's rotation."""

import io
import time
from pathlib import Path

from launcher.output import LogEcho


def _wait_for(out: io.StringIO, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in out.getvalue():
        assert time.monotonic() < deadline, f"{text!r} never echoed; got {out.getvalue()!r}"
        time.sleep(0.05)
    return out.getvalue()


def test_new_lines_are_echoed_with_the_program_name(tmp_path: Path) -> None:
    rasa, gateway = tmp_path / "rasa.log", tmp_path / "gateway.log"
    rasa.write_text("from an earlier run\n")
    out = io.StringIO()
    echo = LogEcho({"rasa": rasa, "gateway": gateway}, out=out)
    echo.start()
    try:
        with rasa.open("a") as log:
            log.write("Loading model\nRasa server is up")
        gateway.write_text("Started server process\n")
        _wait_for(out, "gateway | Started server process\n")
        _wait_for(out, "rasa    | Loading model\n")
        with rasa.open("a") as log:
            log.write(" and running.\n")
        _wait_for(out, "rasa    | Rasa server is up and running.\n")
    finally:
        echo.stop()
    assert "earlier run" not in out.getvalue()


def test_rotation_is_followed(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text("")
    out = io.StringIO()
    echo = LogEcho({"rasa": log}, out=out)
    echo.start()
    try:
        with log.open("a") as handle:
            handle.write("before rotation\n")
        _wait_for(out, "before rotation")
        log.rename(tmp_path / "rasa.log.1")  # what supervisord does when the file reaches its maximum size
        log.write_text("after rotation\n")
        _wait_for(out, "rasa | after rotation\n")
    finally:
        echo.stop()
    assert out.getvalue().count("before rotation") == 1
