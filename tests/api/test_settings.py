"""api/settings.py: demo mode stays on loopback unless forced; edge settings are checked at start-up."""

from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from api.settings import Settings

PRODUCTION = {
    "demo_mode": False,
    "identity_secret": "settings-test-identity-secret",
    "internal_secret": "settings-test-internal-secret",
    "rasa_token": "settings-test-rasa-token",
}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_demo_mode_listens_on_loopback(tmp_path: Path, host: str) -> None:
    assert Settings(data_dir=tmp_path, demo_mode=True, host=host).host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.1.2.3", "demo.example.com"])
def test_demo_mode_refuses_a_public_host(tmp_path: Path, host: str) -> None:
    with pytest.raises(ValidationError, match="KEEPWELL_DEMO_ALLOW_PUBLIC_HOST=true"):
        Settings(data_dir=tmp_path, demo_mode=True, host=host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_demo_mode_on_a_public_host_when_forced(tmp_path: Path, host: str) -> None:
    settings = Settings(data_dir=tmp_path, demo_mode=True, host=host, demo_allow_public_host=True)
    assert settings.host == host


def test_the_public_host_setting_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPWELL_HOST", "0.0.0.0")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, demo_mode=True)
    monkeypatch.setenv("KEEPWELL_DEMO_ALLOW_PUBLIC_HOST", "true")
    assert Settings(data_dir=tmp_path, demo_mode=True).demo_allow_public_host


def test_outside_demo_mode_any_host_is_fine(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, host="0.0.0.0", **PRODUCTION).host == "0.0.0.0"


def test_lists_come_from_the_environment_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPWELL_TRUSTED_PROXIES", '["10.0.0.0/8", "192.168.1.1", "fd00::/8"]')
    monkeypatch.setenv("KEEPWELL_CORS_ORIGINS", '["https://WWW.Example.com", "http://localhost:3000"]')
    settings = Settings(data_dir=tmp_path, demo_mode=True)
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.1", "fd00::/8"]
    assert settings.cors_origins == ["https://www.example.com", "http://localhost:3000"]  # browsers send lower case


def test_a_list_that_is_not_json_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPWELL_TRUSTED_PROXIES", "10.0.0.0/8")
    with pytest.raises(SettingsError, match="trusted_proxies"):
        Settings(data_dir=tmp_path, demo_mode=True)


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "proxy.internal", "10.0.0", ""])
def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path, entry: str) -> None:
    with pytest.raises(ValidationError, match="trusted proxy"):
        Settings(data_dir=tmp_path, demo_mode=True, trusted_proxies=[entry])


@pytest.mark.parametrize(
    "origin", ["https://host.example/", "https://host.example/widget", "*", "host.example", "null", "ftp://host"]
)
def test_cors_origins_must_be_exact_origins(tmp_path: Path, origin: str) -> None:
    with pytest.raises(ValidationError, match="CORS origin"):
        Settings(data_dir=tmp_path, demo_mode=True, cors_origins=[origin])


@pytest.mark.parametrize("field", ["chat_rate_limit_per_identity", "login_rate_limit_per_account"])
@pytest.mark.parametrize("value", ["30 a minute", "lots", "0/minute"])
def test_rate_limits_are_checked_at_start_up(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(data_dir=tmp_path, demo_mode=True, **{field: value})


def test_rate_limit_notation(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, demo_mode=True, chat_rate_limit_per_address="500 per 10 minutes")
    assert settings.chat_rate_limit_per_address == "500 per 10 minutes"


def test_redis_key_prefix_names_one_deployment(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, demo_mode=True).redis_key_prefix == "keepwell"
    with pytest.raises(ValidationError, match="redis_key_prefix"):
        Settings(data_dir=tmp_path, demo_mode=True, redis_key_prefix="has space")


def test_handoff_webhook_and_public_urls_are_checked_and_the_public_url_loses_its_trailing_slash(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, demo_mode=True, public_url="https://chat.example.com/keepwell/")
    assert settings.public_url == "https://chat.example.com/keepwell" and settings.handoff_webhook_url is None
    for field, value in (("handoff_webhook_url", "hooks.slack.com/services/x"), ("public_url", "chat.example.com")):
        with pytest.raises(ValidationError, match=field):
            Settings(data_dir=tmp_path, demo_mode=True, **{field: value})
