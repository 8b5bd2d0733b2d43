"""Request and response bodies of the public API, named by role (`XIn`, `XPublic`, `XsPublic`)."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONVERSATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,64}$"
MAX_MESSAGE_CHARS = 2000


class ChatIn(BaseModel):
    """A message from the widget. Identity is proven by `signature`, never by `customer_id` alone."""

    model_config = ConfigDict(extra="forbid", strict=True)

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = None
    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID_PATTERN)
    signature: str | None = Field(default=None, max_length=128)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must contain text, not only whitespace")
        return value

    @field_validator("conversation_id")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and not CONVERSATION_ID_PATTERN.match(value):
            raise ValueError("conversation_id has an unknown format; omit it to start a new conversation")
        return value

    @model_validator(mode="after")
    def _signature_needs_customer(self) -> "ChatIn":
        if self.signature is not None and self.customer_id is None:
            raise ValueError("signature was given without customer_id")
        return self


class ButtonPublic(BaseModel):
    title: str
    payload: str


class SourcePublic(BaseModel):
    title: str
    url: str


class MessagePublic(BaseModel):
    text: str
    buttons: list[ButtonPublic] = []
    sources: list[SourcePublic] = []


class ChatPublic(BaseModel):
    conversation_id: str
    messages: list[MessagePublic]


class ComponentHealthPublic(BaseModel):
    ready: bool
    detail: str


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    components: dict[str, ComponentHealthPublic]


class DemoCustomerPublic(BaseModel):
    id: str
    name: str
    segment: str
    plan: str
    signature: str


class DemoCustomersPublic(BaseModel):
    data: list[DemoCustomerPublic]
    count: int
