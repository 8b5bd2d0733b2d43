"""ORM tables of the app database, one module per concept. Services return plain dataclasses, never these objects.

Alembic (`keepwell/migrations`) owns the schema: a change here comes with a migration.
"""

from keepwell.models.api_keys import ApiKey
from keepwell.models.base import Base, as_utc, utcnow
from keepwell.models.conversations import Conversation, ConversationFlag, Feedback, Handoff, Message
from keepwell.models.customers import Contact, Customer, UsageSnapshot
from keepwell.models.offers import OfferEvent
from keepwell.models.review import ConversationNote, ConversationTag, SavedView, TrainingExample
from keepwell.models.search import MESSAGES_FTS
from keepwell.models.staff import AuditEvent, ConsoleSession, CSMUser
from keepwell.models.subscriptions import Subscription
from keepwell.models.success import ChurnSignal, CSMTask, HealthSnapshot, OnboardingStep
from keepwell.models.unanswered import HandledQuestion, MessageVector
from keepwell.models.voice import SupportTicket, SurveyAnswer
from keepwell.models.webhooks import WebhookDelivery

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "CSMTask",
    "CSMUser",
    "ChurnSignal",
    "ConsoleSession",
    "Contact",
    "Conversation",
    "ConversationFlag",
    "ConversationNote",
    "ConversationTag",
    "Customer",
    "Feedback",
    "Handoff",
    "HandledQuestion",
    "HealthSnapshot",
    "MESSAGES_FTS",
    "Message",
    "MessageVector",
    "OfferEvent",
    "OnboardingStep",
    "SavedView",
    "Subscription",
    "SupportTicket",
    "SurveyAnswer",
    "TrainingExample",
    "UsageSnapshot",
    "WebhookDelivery",
    "as_utc",
    "utcnow",
]
