"""“What should we do next?”: the next step of the account's own onboarding checklist, with its manual page; once
the checklist is done, the recommendations instead."""

import re
from collections.abc import Callable

from actions import replies, services
from keepwell import onboarding
from keepwell.accounts import Account
from keepwell.db import session_scope

# "next steps", "what should we do next", "where do we start": a request for the next thing to do, not for an
# add-on ("any recommendations?") or for advice about something specific.
_NEXT = re.compile(
    r"\bnext steps?\b|\b(?:do|what's|whats|what is|what comes) next\b|\bwhat should (?:we|i) do\b"
    r"|\bwhere (?:do|should) (?:we|i) (?:start|begin)\b",
    re.IGNORECASE,
)


def asks_next_step(text: str) -> bool:
    return bool(_NEXT.search(text))


def next_step(account: Account, otherwise: Callable[[Account], replies.Reply]) -> replies.Reply:
    """The checklist's next step; when there is none to do (done, or no checklist), `otherwise(account)`."""
    with session_scope(services.engine()) as session:
        checklist = onboarding.checklist(session, account.id)
    if checklist.next is not None:
        return replies.next_step(account, checklist)
    reply = otherwise(account)
    if checklist.complete:
        done = replies.next_step(account, checklist).text
        return replies.Reply(text=f"{done}\n{reply.text}", buttons=reply.buttons, sources=reply.sources)
    return reply
