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
    assert "'similarity_weight' must lie in [0, 1]" in errors["similarity_weight"]
    assert "'neighbours' must be a positive integer" in errors["neighbours"]
    assert "'reference_quantile' must be null or lie in [0, 1]" in errors["reference_quantile"]


@pytest.mark.parametrize("variant", ["shipped", "dense_only"])
def test_a_trained_and_reloaded_model_predicts_unseen_paraphrases(report: dict[str, Any], variant: str) -> None:
    parsed = report[variant]
    assert parsed["hello!"]["intent"]["name"] == "greet"
    assert parsed["send me the invoice for march"]["intent"]["name"] == "billing"
    assert parsed["how do I hook it up to Slack"]["intent"]["name"] == "integrations"


def test_without_similarity_the_ranking_is_a_probability_distribution_best_first(report: dict[str, Any]) -> None:
    for text in ("hello!", "send me the invoice for march"):
        ranking = report["probability"][text]["ranking"]
        confidences = [item["confidence"] for item in ranking]
        assert {item["name"] for item in ranking} == {"greet", "billing", "integrations"}  # ranking_length 0: all
        assert sum(confidences) == pytest.approx(1.0, abs=1e-6)
        assert confidences == sorted(confidences, reverse=True)
        assert report["probability"][text]["intent"] == ranking[0]


def test_the_shipped_ranking_keeps_the_probability_order_with_blended_confidences(report: dict[str, Any]) -> None:
    for text in ("hello!", "send me the invoice for march", "how do I hook it up to Slack"):
        shipped, probability = report["shipped"][text]["ranking"], report["probability"][text]["ranking"]
        assert [item["name"] for item in shipped] == [item["name"] for item in probability]
        assert report["shipped"][text]["intent"] == shipped[0]
        assert all(0.0 <= item["confidence"] <= 1.0 for item in shipped)


def test_the_per_intent_reference_moves_the_confidences_but_not_the_ranking(report: dict[str, Any]) -> None:
    moved = False
    for text in ("hello!", "send me the invoice for march", "how do I hook it up to Slack"):
        relative, shipped = report["relative"][text]["ranking"], report["shipped"][text]["ranking"]
        assert [item["name"] for item in relative] == [item["name"] for item in shipped]
        assert all(0.0 <= item["confidence"] <= 1.0 for item in relative)
        moved |= any(abs(a["confidence"] - b["confidence"]) > 1e-6 for a, b in zip(relative, shipped, strict=True))
    assert moved


def test_a_training_sentence_scores_the_mean_of_its_probability_and_a_perfect_similarity(
    report: dict[str, Any],
) -> None:
    probability = report["probability"]["hi"]["intent"]["confidence"]
    assert report["shipped"]["hi"]["intent"]["name"] == "greet"
    assert report["shipped"]["hi"]["intent"]["confidence"] == pytest.approx((probability + 1.0) / 2, abs=1e-4)


def test_a_message_far_from_every_example_gets_less_confidence_than_one_near_them(report: dict[str, Any]) -> None:
    near, far = report["edge_cases"]["off_topic_confidence"]
    assert far < near


def test_a_model_saved_without_example_vectors_reports_probabilities(report: dict[str, Any]) -> None:
    assert sum(report["edge_cases"]["legacy_ranking"]) == pytest.approx(1.0, abs=1e-6)


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
    assert parsed["intent"]["name"] == "greet"
    # Its probability is 1; the reported confidence is lower because the message is unlike "hi" and "hello".
    assert 0.5 <= parsed["intent"]["confidence"] < 1.0
