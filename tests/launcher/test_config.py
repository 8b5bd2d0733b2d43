"""launcher/config.py: the supervisord configuration, read back by supervisor's own parser."""

import json
import stat
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from api.settings import PLACEHOLDER_RASA_TOKEN, Settings
from launcher import config

TOKEN = "launcher-test-token-8d1e"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        demo_mode=True,
        rasa_token=TOKEN,
        rasa_url="http://127.0.0.1:15005",
        action_server_url="http://127.0.0.1:15055",
        port=18000,
    )


@pytest.fixture
def layout(settings: Settings) -> config.Layout:
    layout = config.Layout(settings.data_dir.resolve())
    layout.create()
    return layout


@pytest.fixture
def rasa_env(tmp_path: Path) -> Path:
    """A stand-in for Rasa's environment: bin/rasa next to bin/python."""
    bin_dir = tmp_path / "rasa-env" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("rasa", "python"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _programs(settings: Settings, layout: config.Layout, rasa_env: Path) -> list[config.Program]:
    return config.programs(settings, layout, rasa_env / "python", Path("/models/keepwell.tar.gz"), python="/app/python")


def _supervisor_options(settings: Settings, layout: config.Layout, rasa_env: Path) -> ServerOptions:
    """What supervisord itself makes of the configuration the launcher writes."""
    layout.config_path.write_text(config.supervisord_config(_programs(settings, layout, rasa_env), layout, "pw"))
    options = ServerOptions()
    options.realize(args=["-c", str(layout.config_path)])
    return options


def _process_configs(options: ServerOptions) -> dict:  # type: ignore[type-arg]
    return {process.name: process for group in options.process_group_configs for process in group.process_configs}


def test_three_programs_start_in_order_and_run_in_the_foreground(
    settings: Settings, layout: config.Layout, rasa_env: Path
) -> None:
    options = _supervisor_options(settings, layout, rasa_env)
    processes = _process_configs(options)
    assert set(processes) == {"gateway", "rasa", "action_server"}
    assert options.nodaemon
    order = sorted(processes.values(), key=lambda process: process.priority)
    assert [process.name for process in order] == ["action_server", "rasa", "gateway"]
    gateway = processes["gateway"].command
    assert gateway.startswith("/app/python -m uvicorn api.main:create_app --factory")
    assert f"--log-config {layout.gateway_logging_path}" in gateway
    assert "--no-access-log" in gateway
    assert "--no-proxy-headers" in gateway, "forwarded headers are believed only from KEEPWELL_TRUSTED_PROXIES"
    assert processes["action_server"].command == "/app/python -m actions.server"
    rasa = processes["rasa"].command
    assert rasa.startswith(f"{rasa_env / 'python'} -m launcher.rasa_server --model /models/keepwell.tar.gz")
    assert "--enable-api" in rasa
    assert all(process.directory == str(config.ROOT) for process in processes.values())


def test_every_program_is_restarted_with_backoff_and_stopped_as_a_group(
    settings: Settings, layout: config.Layout, rasa_env: Path
) -> None:
    for process in _process_configs(_supervisor_options(settings, layout, rasa_env)).values():
        assert process.autostart
        assert process.autorestart is RestartUnconditionally
        # Far more tries than supervisor's default 3: a crash-looping part keeps being retried, each wait 1 s longer.
        assert process.startretries >= 30
        assert 1 <= process.startsecs <= 30
        assert process.stopasgroup and process.killasgroup
        assert process.stopwaitsecs >= 5


def test_rasa_token_is_in_no_command_line_and_not_in_the_config(
    settings: Settings, layout: config.Layout, rasa_env: Path
) -> None:
    text = config.supervisord_config(_programs(settings, layout, rasa_env), layout, "pw")
    assert TOKEN not in text
    assert "--auth-token" not in text
    for program in _programs(settings, layout, rasa_env):
        assert TOKEN not in " ".join(program.argv)
    # It travels in the environment supervisord hands to its programs.
    assert config.process_env(settings, TOKEN, base={})["KEEPWELL_RASA_TOKEN"] == TOKEN


def test_rasa_and_action_server_listen_on_loopback(settings: Settings, layout: config.Layout, rasa_env: Path) -> None:
    processes = _process_configs(_supervisor_options(settings, layout, rasa_env))
    assert "--interface 127.0.0.1 --port 15005" in processes["rasa"].command
    assert "--host 127.0.0.1 --port 18000" in processes["gateway"].command
    env = config.process_env(settings, TOKEN, base={})
    assert (env["KEEPWELL_ACTION_HOST"], env["KEEPWELL_ACTION_PORT"]) == ("127.0.0.1", "15055")
    assert env["KEEPWELL_ACTION_ENDPOINT"] == "http://127.0.0.1:15055/webhook"


@pytest.mark.parametrize("variable", ["rasa_url", "action_server_url"])
def test_a_public_address_for_rasa_or_the_action_server_is_refused(
    settings: Settings, layout: config.Layout, rasa_env: Path, variable: str
) -> None:
    public = settings.model_copy(update={variable: "http://0.0.0.0:5005"})
    with pytest.raises(SystemExit, match="loopback"):
        _programs(public, layout, rasa_env)


def test_control_socket_is_private_and_password_protected(
    settings: Settings, layout: config.Layout, rasa_env: Path
) -> None:
    options = _supervisor_options(settings, layout, rasa_env)
    (server,) = options.server_configs
    assert server["family"].name == "AF_UNIX"
    assert server["file"] == str(layout.socket_path)
    assert server["chmod"] == 0o700
    assert (server["username"], server["password"]) == (config.CONTROL_USER, "pw")
    assert stat.S_IMODE(layout.socket_path.parent.stat().st_mode) == 0o700
    assert layout.socket_path.is_relative_to(layout.data_dir)


def test_a_deep_data_directory_gets_its_socket_in_a_private_temp_directory(tmp_path: Path) -> None:
    layout = config.Layout(tmp_path / ("d" * 120))
    layout.create()
    assert len(str(layout.socket_path)) < 108
    assert stat.S_IMODE(layout.socket_path.parent.stat().st_mode) == 0o700
    assert config.Layout(tmp_path / ("d" * 120)).socket_path == layout.socket_path  # the same on every call


def test_logs_go_to_one_rotated_file_per_program(settings: Settings, layout: config.Layout, rasa_env: Path) -> None:
    options = _supervisor_options(settings, layout, rasa_env)
    for name, process in _process_configs(options).items():
        assert process.stdout_logfile == str(layout.logs_dir / f"{name}.log")
        assert process.redirect_stderr
        assert process.stdout_logfile_maxbytes == 10 * 1024 * 1024
        assert process.stdout_logfile_backups == config.LOG_BACKUPS
    assert options.logfile == str(layout.logs_dir / "supervisord.log")


def test_the_gateway_log_configuration_redacts_and_quiets_httpx() -> None:
    logging_config = json.loads(json.dumps(config.gateway_logging()))  # as written to the JSON file
    assert logging_config["loggers"]["httpx"]["level"] == "WARNING"
    assert logging_config["handlers"]["stderr"]["filters"] == ["redact"]
    assert logging_config["filters"]["redact"]["()"] == "launcher.redaction.RedactSecrets"


def test_the_python_next_to_rasa_runs_the_rasa_wrapper(rasa_env: Path) -> None:
    assert config.rasa_python(str(rasa_env / "rasa")) == rasa_env / "python"
    (rasa_env / "python").unlink()
    with pytest.raises(SystemExit, match="no python next to"):
        config.rasa_python(str(rasa_env / "rasa"))


def test_demo_placeholder_token_is_replaced_by_a_fresh_one(settings: Settings) -> None:
    assert config.rasa_token(settings) == TOKEN
    demo = settings.model_copy(update={"rasa_token": PLACEHOLDER_RASA_TOKEN})
    first, second = config.rasa_token(demo), config.rasa_token(demo)
    assert PLACEHOLDER_RASA_TOKEN not in (first, second)
    assert first != second
    assert len(first) >= 32
