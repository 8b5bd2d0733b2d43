"""Gateway settings (`KEEPWELL_*`), read once per process through `get_settings()`."""

import ipaddress
import re
from functools import lru_cache

from limits import parse as parse_rate_limit
from pydantic import Field, field_validator, model_validator

from keepwell.settings import CoreSettings

PLACEHOLDER_RASA_TOKEN = "demo-rasa-token-change-me"  # noqa: S105 - a placeholder, refused outside demo mode
LOOPBACK_HOSTS = ("localhost",)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")


def is_loopback(host: str) -> bool:
    """Whether a listen address only accepts connections from this machine."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(CoreSettings):
    """Everything the gateway needs on top of the shared settings."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Demo mode hands out demo logins and identities: it refuses a public listen address unless this is set.
    demo_allow_public_host: bool = False

    # Rasa and the action server listen on loopback only; the gateway is their single client.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = PLACEHOLDER_RASA_TOKEN
    action_server_url: str = "http://127.0.0.1:5055"

    # Every accepted message gets the bot's answer or an honest notice within this many seconds.
    reply_deadline_s: float = Field(default=6.0, gt=0, le=60)
    # How long the gateway keeps waiting for a turn after the deadline, all told. Rasa waits up to 5 minutes on an
    # action and then still finishes the turn: giving up sooner and sending again would run the turn twice.
    rasa_timeout_s: float = Field(default=310.0, gt=0, le=900)
    # A message that got the notice is answered by the bot once the assistant is back, if it is younger than this
    # and no person has taken the conversation; older ones are left to a person.
    late_answer_max_age_s: float = Field(default=900.0, ge=0)
    # How often the gateway looks for messages to answer late, and checks the health of Rasa and the action server.
    redelivery_interval_s: float = Field(default=1.0, gt=0, le=60)

    # Customer identity: HS256 JWTs under the identity secret, with `sub` and `exp`; no token may live longer.
    identity_token_max_lifetime_s: int = Field(default=12 * 3600, ge=60)
    # The legacy static HMAC signature of the customer id never expires: on in demo mode, off elsewhere by default.
    allow_static_signature: bool | None = None

    # Console sessions (server-side). Outside demo mode cookies are always Secure (HTTPS only).
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    cookie_secure: bool = False

    # Rate limits (the `limits` notation: "30/minute", "5/15 minutes"); a shared store when redis_url is set.
    rate_limit_enabled: bool = True
    chat_rate_limit_per_identity: str = "30/minute"
    chat_rate_limit_per_address: str = "120/minute"
    login_rate_limit_per_address: str = "20/minute"
    login_rate_limit_per_account: str = "5/15 minutes"
    # Ingest API batches (up to 1,000 items each) per API key.
    ingest_rate_limit_per_key: str = "60/minute"
    # Forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are believed only from these addresses or networks
    # (a reverse proxy); "*" believes any peer, safe only when nothing but the proxy can reach the gateway.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Origins whose pages may call the chat API (a host site embedding the widget from another origin).
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator(
        "chat_rate_limit_per_identity",
        "chat_rate_limit_per_address",
        "login_rate_limit_per_address",
        "login_rate_limit_per_account",
        "ingest_rate_limit_per_key",
    )
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        # Refused at start-up rather than on the first request it would apply to.
        try:
            item = parse_rate_limit(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit; write it like '30/minute' or '5/15 minutes'") from None
        if item.amount < 1:
            raise ValueError(f"{value!r} allows nothing; turn limits off with KEEPWELL_RATE_LIMIT_ENABLED=false")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn's proxy middleware would silently ignore a malformed entry; refuse it instead.
        proxies = [entry.strip() for entry in value]
        for entry in proxies:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {entry!r} is not an IP address or a network like 10.0.0.0/8 "
                    "(a network's host bits must be zero)"
                ) from None
        return proxies

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        # Browsers send the origin as scheme://host[:port] exactly: a path or a trailing slash would never match.
        origins = [entry.strip().lower() for entry in value]
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"CORS origin {origin!r} must be written scheme://host[:port], e.g. https://www.example.com "
                    "(no path, no trailing slash, no wildcard)"
                )
        return origins

    @property
    def static_signature_allowed(self) -> bool:
        return self.demo_mode if self.allow_static_signature is None else self.allow_static_signature

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure or not self.demo_mode

    @model_validator(mode="after")
    def _refuse_unsafe_gateway_settings(self) -> "Settings":
        if self.demo_mode:
            if not is_loopback(self.host) and not self.demo_allow_public_host:
                raise ValueError(
                    f"demo mode listens on loopback only (KEEPWELL_HOST={self.host}); it hands out demo logins and "
                    "identities. Set KEEPWELL_DEMO_ALLOW_PUBLIC_HOST=true to expose it anyway"
                )
            return self
        if self.rasa_token == PLACEHOLDER_RASA_TOKEN:
            raise ValueError("set KEEPWELL_RASA_TOKEN outside demo mode")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
