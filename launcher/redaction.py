"""A logging filter that blanks credentials (`?token=...`, bearer tokens) out of every record before it is written.

The gateway's log configuration (written by the launcher) puts it on its only handler: Rasa's HTTP API takes its
token in the query string, so any URL of a Rasa API call that reaches a log line, message or traceback, would leak it.
"""

import logging
import re

_SECRETS = (
    (re.compile(r"(?i)\b(token=)[^&\s'\"]+"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)\b(signature\s+)[A-Za-z0-9_:-]+"), r"\1***"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the record's message (and its formatted traceback) with credentials replaced by `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
