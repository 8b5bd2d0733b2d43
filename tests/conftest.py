"""Options shared by every test: where the Rasa environment and trained model are (passed by `make test`)."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rasa-bin", default=None, help="rasa executable of the Python 3.10 environment")
    parser.addoption("--rasa-model", default=None, help="trained Rasa model (.tar.gz)")
