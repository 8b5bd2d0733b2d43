"""MiniLMFeaturizer in the real Rasa environment: features, alignment, config errors, and a train + parse.

Rasa runs on Python 3.10, so `rasa_featurizer_check.py` runs there (`--rasa-bin` locates it) and reports JSON.
"""

from pathlib import Path
from typing import Any

import pytest

from tests.nlu.conftest import RasaCheck

HERE = Path(__file__).resolve().parent
CHECK_SCRIPT = HERE / "rasa_featurizer_check.py"


@pytest.fixture
def report(run_rasa_check: RasaCheck, tmp_path: Path) -> dict[str, Any]:
    return run_rasa_check(CHECK_SCRIPT, tmp_path)


def test_featurizer_in_rasa(report: dict[str, Any]) -> None:
    # One Rasa run (~15 s) checks everything, so the assertions share a test.
    assert report["registered_as_featurizer"]

    for message in report["messages"]:
        assert message["sentence_shape"] == [1, 384], message
        assert message["sequence_shape"] == [message["tokens"], 384], message
        assert message["sentence_cosine"] > 0.99999, message  # the encoder's own sentence vector
        assert message["alignment_error"] < 1e-5, message  # token vector = mean of its overlapping word pieces
        assert message["process_vs_training_error"] < 1e-5, message  # inference computes what training did
    by_text = {message["text"]: message for message in report["messages"]}
    assert by_text["How do I connect Orbitly to Slack?"]["tokens"] == 7
    assert by_text["How do I connect Orbitly to Slack?"]["zero_token_rows"] == 0
    truncated = next(message for message in report["messages"] if message["text"].startswith("please renew"))
    assert truncated["zero_token_rows"] > 0  # tokens past the 256th word piece get zero vectors

    assert report["fingerprint"] == report["manifest_sha256"]  # a re-export invalidates Rasa's training cache
    assert report["fingerprint_without_export"] is None
    errors = report["config_errors"]
    assert "'batch_size' must be a positive integer" in errors["batch_size"]
    assert "'model_dir' must be a directory path" in errors["model_dir"]
    assert "python -m nlu.export --out" in errors["missing_export"]

    assert report["parsed_intents"] == {"hello!": "greet", "send me last month's invoice": "billing"}
