"""ORM tables of the app database, one module per concept. Services return plain dataclasses, never these objects.

Alembic (`keepwell/migrations`) owns the schema: a change here comes with a migration.
"""

from keepwell.models.base import Base, as_utc, utcnow
from keepwell.models.conversations import Conversation, ConversationFlag, Feedback, Handoff, Message
from keepwell.models.customers import Customer, UsageSnapshot
from keepwell.models.staff import AuditEvent, ConsoleSession, CSMUser

__all__ = [
    "AuditEvent",
    "Base",
    "CSMUser",
    "ConsoleSession",
    "Conversation",
    "ConversationFlag",
    "Customer",
    "Feedback",
    "Handoff",
    "Message",
    "UsageSnapshot",
    "as_utc",
    "utcnow",
]
