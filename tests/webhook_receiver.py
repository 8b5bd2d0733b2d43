"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread that records every POST and answers
with the statuses it is given (then `status`), optionally slowly, and checks Keepwell's signature."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, statuses: list[int] | None = None, status: int = 200, delay_s: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.status = status
        self.delay_s = delay_s
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                time.sleep(receiver.delay_s)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 400 else b"nope")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret-path"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.requests]

    @property
    def delivery_keys(self) -> list[str]:
        with self._lock:
            return [headers["X-Keepwell-Delivery"] for headers, _ in self.requests]

    def signed_correctly(self, secret: str) -> bool:
        """Every request carries X-Keepwell-Signature = HMAC-SHA256 of its raw body under `secret`."""
        with self._lock:
            return bool(self.requests) and all(
                headers.get("X-Keepwell-Signature")
                == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                for headers, body in self.requests
            )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiving(**kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(**kwargs)
    try:
        yield receiver
    finally:
        receiver.close()
