"""launcher/redaction.py: credentials never reach the gateway's log, in messages or in tracebacks."""

import logging

import httpx

from launcher.redaction import RedactSecrets, redact


def _record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_token_in_a_url_is_blanked() -> None:
    record = _record('HTTP Request: %s %s "%s"', "GET", "http://127.0.0.1:5005/status?token=s3cret&x=1", "200 OK")
    assert RedactSecrets().filter(record)
    assert record.getMessage() == 'HTTP Request: GET http://127.0.0.1:5005/status?token=***&x=1 "200 OK"'


def test_bearer_and_signature_credentials_are_blanked() -> None:
    assert redact("Authorization: Bearer eyJ.abc.def") == "Authorization: Bearer ***"
    assert redact("Authorization: Signature cus_001:abcdef0123") == "Authorization: Signature ***"


def test_a_traceback_carrying_the_url_is_blanked() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:5005/status?token=s3cret")
    try:
        httpx.Response(401, request=request).raise_for_status()
    except httpx.HTTPStatusError as error:
        record = _record("Rasa refused", exc_info=(type(error), error, error.__traceback__))
    RedactSecrets().filter(record)
    formatted = logging.Formatter().format(record)
    assert "s3cret" not in formatted
    assert "token=***" in formatted


def test_records_without_credentials_are_left_alone() -> None:
    record = _record("knowledge base ready: %d articles", 45)
    RedactSecrets().filter(record)
    assert (record.msg, record.args) == ("knowledge base ready: %d articles", (45,))
