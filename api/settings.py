"""Gateway settings (`KEEPWELL_*`), read once per process through `get_settings()`."""

from functools import lru_cache

from pydantic import Field, model_validator

from keepwell.settings import CoreSettings

PLACEHOLDER_RASA_TOKEN = "demo-rasa-token-change-me"  # noqa: S105 - a placeholder, refused outside demo mode
PLACEHOLDER_SESSION_SECRET = "demo-session-secret-change-me"  # noqa: S105 - a placeholder, refused outside demo mode
DEMO_CSM_PASSWORD = "keepwell-demo"  # noqa: S105 - a placeholder, refused outside demo mode


class Settings(CoreSettings):
    """Everything the gateway needs on top of the shared settings."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Rasa and the action server listen on loopback only; the gateway is their single client.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = PLACEHOLDER_RASA_TOKEN
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    action_server_url: str = "http://127.0.0.1:5055"

    csm_username: str = "csm@demo.test"
    csm_password: str = DEMO_CSM_PASSWORD
    session_secret: str = PLACEHOLDER_SESSION_SECRET
    session_max_age_seconds: int = 8 * 3600
    cookie_secure: bool = False

    rate_limit_enabled: bool = True
    chat_rate_limit: str = "30/minute"
    login_rate_limit: str = "10/minute"

    @model_validator(mode="after")
    def _refuse_gateway_placeholders(self) -> "Settings":
        if self.demo_mode:
            return self
        placeholders = {
            "KEEPWELL_RASA_TOKEN": self.rasa_token == PLACEHOLDER_RASA_TOKEN,
            "KEEPWELL_SESSION_SECRET": self.session_secret == PLACEHOLDER_SESSION_SECRET,
            "KEEPWELL_CSM_PASSWORD": self.csm_password == DEMO_CSM_PASSWORD,
        }
        missing = [name for name, is_placeholder in placeholders.items() if is_placeholder]
        if missing:
            raise ValueError(f"set {', '.join(missing)} outside demo mode")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
