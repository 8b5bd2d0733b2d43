"""SentenceIntentClassifier in the real Rasa environment: registration, config errors, train, persist, load, parse.

Rasa runs on Python 3.10, so `rasa_classifier_check.py` runs there (`--rasa-bin` locates it) and reports JSON.
"""

from pathlib import Path
from typing import Any

import pytest

from tests.nlu.conftest import RasaCheck

HERE = Path(__file__).resolve().parent
CHECK_SCRIPT = HERE / "rasa_classifier_check.py"


@pytest.fixture(scope="module")
def report(run_rasa_check: RasaCheck, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_rasa_check(CHECK_SCRIPT, tmp_path_factory.mktemp("classifier"))


def test_it_is_registered_as_a_trainable_intent_classifier(report: dict[str, Any]) -> None:
    assert report["registered_as_classifier"]


def test_bad_settings_are_refused_with_the_setting_named(report: dict[str, Any]) -> None:
    errors = report["config_errors"]
    assert "'C' must be positive" in errors["C"]
    assert "'sparse_weight' must be a non-negative number" in errors["sparse_weight"]
    assert "'ranking_length' must be a non-negative integer" in errors["ranking_length"]
    assert "'max_iter' must be a non-negative integer" in errors["max_iter"]


@pytest.mark.parametrize("variant", ["shipped", "dense_only"])
def test_a_trained_and_reloaded_model_predicts_unseen_paraphrases(report: dict[str, Any], variant: str) -> None:
    parsed = report[variant]
    assert parsed["hello!"]["intent"]["name"] == "greet"
    assert parsed["send me the invoice for march"]["intent"]["name"] == "billing"
    assert parsed["how do I hook it up to Slack"]["intent"]["name"] == "integrations"


def test_the_ranking_is_a_probability_distribution_best_first(report: dict[str, Any]) -> None:
    for text in ("hello!", "send me the invoice for march"):
        ranking = report["shipped"][text]["ranking"]
        confidences = [item["confidence"] for item in ranking]
        assert {item["name"] for item in ranking} == {"greet", "billing", "integrations"}  # ranking_length 0: all
        assert sum(confidences) == pytest.approx(1.0, abs=1e-6)
        assert confidences == sorted(confidences, reverse=True)
        assert report["shipped"][text]["intent"] == ranking[0]


def test_an_empty_message_gets_no_intent_instead_of_an_error(report: dict[str, Any]) -> None:
    parsed = report["shipped"][""]
    assert parsed["intent"]["name"] is None
    assert parsed["intent"]["confidence"] == 0.0
    assert parsed["ranking"] == []


def test_a_message_without_word_features_is_classified_by_its_vector_alone(report: dict[str, Any]) -> None:
    # The middle message has no word features; its neighbours' words must still count for them.
    assert report["edge_cases"]["mixed_batch"] == ["left", "right", "left"]


def test_a_changed_vocabulary_is_refused_with_advice(report: dict[str, Any]) -> None:
    assert "trained on 3 word features but got 4" in report["edge_cases"]["changed_vocabulary"]
    assert "train the model again" in report["edge_cases"]["changed_vocabulary"]


def test_a_damaged_or_foreign_model_file_is_refused_by_name(report: dict[str, Any]) -> None:
    assert "cannot load the intent classifier from" in report["edge_cases"]["damaged_file"]
    assert "damaged.skops" in report["edge_cases"]["damaged_file"]
    assert "does not hold a SentenceIntentClassifier model" in report["edge_cases"]["foreign_file"]


def test_a_bot_with_one_intent_always_predicts_it(report: dict[str, Any]) -> None:
    parsed = report["one_intent"]["send me the invoice for march"]
    assert parsed["intent"] == {"name": "greet", "confidence": 1.0}
