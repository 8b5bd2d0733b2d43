"""Rasa's server started as `rasa run` starts it, with the HTTP API token taken from the environment.

`rasa run --auth-token T` leaves the token in the process's command line, which any local user can read (`ps`,
/proc/<pid>/cmdline). This module runs in Rasa's own Python 3.10 environment (stdlib and rasa only), takes the token
from KEEPWELL_RASA_TOKEN and hands it to Rasa in-process. Sanic's access log, which would print the `?token=` of
every API call, is switched off. Usage: `python -m launcher.rasa_server <rasa run options without --auth-token>`.
"""

import os
import sys
from typing import Any

TOKEN_VARIABLE = "KEEPWELL_RASA_TOKEN"  # noqa: S105 - the name of the variable, not a secret


def main(argv: list[str] | None = None) -> None:
    # Removed from the environment so nothing Rasa starts inherits it.
    token = os.environ.pop(TOKEN_VARIABLE, "")
    if not token:
        sys.exit(f"{TOKEN_VARIABLE} is not set: Rasa's HTTP API would be open to anyone who can reach it")

    from rasa.__main__ import create_argument_parser

    args = create_argument_parser().parse_args(["run", *(sys.argv[1:] if argv is None else argv)])
    if args.auth_token is not None:
        sys.exit(f"pass the token in {TOKEN_VARIABLE}, never as --auth-token (it would be visible to every user)")
    args.auth_token = token
    # Passed through `rasa.run` to `rasa.core.run.serve_application`.
    args.server_listeners = [(_no_access_log, "before_server_start")]
    _run(args)


def _no_access_log(app: Any, _loop: Any) -> None:
    app.config.ACCESS_LOG = False


def _run(args: Any) -> None:
    """What `rasa.__main__.main` does for a subcommand, with arguments already parsed (Rasa 3.6)."""
    import rasa.telemetry
    import rasa.utils.io
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.plugin import plugin_manager
    from rasa.shared.exceptions import RasaException
    from rasa.shared.utils.cli import print_error
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    log_level = getattr(args, "loglevel", None)
    configure_logging_and_warnings(
        log_level, getattr(args, "logging_config_file", None), warn_only_once=True, filter_repeated_logs=True
    )
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    sys.path.insert(1, os.getcwd())
    try:
        rasa.utils.io.configure_colored_logging(log_level)
        result = plugin_manager().hook.configure_commandline(cmdline_arguments=args)
        endpoints_file = result[0] if result else None
        rasa.telemetry.initialize_telemetry()
        rasa.telemetry.initialize_error_reporting()
        plugin_manager().hook.init_telemetry(endpoints_file=endpoints_file)
        plugin_manager().hook.init_managers(endpoints_file=endpoints_file)
        plugin_manager().hook.init_anonymization_pipeline(endpoints_file=endpoints_file)
        configure_structlog(log_level)
        args.func(args)
    except RasaException as error:
        print_error(f"{error.__class__.__name__}: {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
