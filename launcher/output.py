"""The programs' output on the terminal: each new line of data/logs/<program>.log, prefixed with the program's name.

supervisord writes every program's output to its own rotated log file; this echoes the files as they grow (watched
with watchfiles, inotify where available), so `make run` reads like before: `rasa           | ...`.
"""

import os
import sys
import threading
from pathlib import Path
from typing import TextIO

import watchfiles


class _Tail:
    """Reads what was appended to one file since the last read; follows supervisord's rotation (rename, new file)."""

    def __init__(self, path: Path, from_end: bool) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._inode = 0
        self._partial = ""
        self._open(from_end)

    def _open(self, from_end: bool) -> None:
        try:
            handle = self.path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            self._file = None
            return
        self._inode = os.fstat(handle.fileno()).st_ino
        if from_end:
            handle.seek(0, os.SEEK_END)
        self._file = handle

    def lines(self) -> list[str]:
        text = ""
        if self._file is not None:
            text = self._file.read()
        try:
            current = self.path.stat()
        except FileNotFoundError:
            current = None
        rotated = current is not None and (self._file is None or current.st_ino != self._inode)
        truncated = current is not None and self._file is not None and current.st_size < self._file.tell()
        if rotated or truncated:
            self.close()
            self._open(from_end=False)
            if self._file is not None:
                text += self._file.read()
        text = self._partial + text
        *complete, self._partial = text.split("\n")
        return complete

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LogEcho:
    """Echoes the named log files to `out` from a background thread until `stop()`; starts at their current end."""

    def __init__(self, files: dict[str, Path], out: TextIO = sys.stdout) -> None:
        self._files = files
        self._out = out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-echo", daemon=True)
        self._width = max((len(name) for name in files), default=0)
        self._tails = {name: _Tail(path, from_end=True) for name, path in files.items()}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Echo what is left, then stop."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._echo()
        for tail in self._tails.values():
            tail.close()

    def _run(self) -> None:
        directories = {path.parent for path in self._files.values()}
        # yield_on_timeout: a pass every half second even without inotify events (some file systems have none).
        for _changes in watchfiles.watch(
            *directories, stop_event=self._stop, debounce=100, rust_timeout=500, yield_on_timeout=True
        ):
            self._echo()

    def _echo(self) -> None:
        written = False
        for name, tail in self._tails.items():
            for line in tail.lines():
                self._out.write(f"{name:<{self._width}} | {line}\n")
                written = True
        if written:
            self._out.flush()
