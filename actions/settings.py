"""Action-server settings (`KEEPWELL_*`), read once per process."""

from functools import lru_cache
from typing import Literal

from keepwell.settings import CoreSettings


class ActionSettings(CoreSettings):
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    # What the bot tells customers of their account's health: the score, band, trend and drivers ("full"), the band,
    # trend and drivers without numbers ("band"), or only what would improve it ("tips").
    health_disclosure: Literal["full", "band", "tips"] = "full"


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()
