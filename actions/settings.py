"""Action-server settings (`KEEPWELL_*`), read once per process."""

from functools import lru_cache

from keepwell.settings import CoreSettings


class ActionSettings(CoreSettings):
    action_host: str = "127.0.0.1"
    action_port: int = 5055


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()
