"""The pure parts of the NLU benchmark: intent names, training YAML, the epochs override, the streaming runner."""

import fcntl
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.datasets import Dataset, Example
from benchmarks.rasa_nlu import (
    RasaEnvironment,
    RasaError,
    config_with_encoder,
    config_with_epochs,
    intent_names,
    nlu_yaml,
    pipeline_summary,
    run_nlu_benchmark,
    run_streaming,
)

ROOT = Path(__file__).resolve().parents[2]


def test_intent_names_are_rasa_safe_unique_and_keep_safe_labels() -> None:
    names = intent_names(["card_arrival", "card arrival", "faq/reset", "nlu_fallback", "card-arrival", "oos"])

    assert names["card_arrival"] == "card_arrival"
    assert names["oos"] == "oos"
    assert names["faq/reset"] == "faq_reset"
    assert names["nlu_fallback"] == "nlu_fallback_2"
    assert names["card arrival"] == "card_arrival_2" and names["card-arrival"] == "card_arrival_3"
    assert len(set(names.values())) == len(names)
    assert all(name.replace("_", "").isalnum() for name in names.values())


def test_nlu_yaml_is_rasa_training_data_without_accidental_entities() -> None:
    examples = [
        Example("does redrobin take reservations", "accept_reservations"),
        Example("what is [my balance](account) now", "balance"),
        Example("block my card: it's lost #help", "card lost"),
    ]
    names = intent_names([e.label for e in examples])

    data = yaml.safe_load(nlu_yaml(examples, names))

    assert data["version"] == "3.1"
    blocks = {block["intent"]: block["examples"] for block in data["nlu"]}
    assert blocks["card_lost"] == "- block my card: it's lost #help\n"
    assert blocks["balance"] == "- what is (my balance)(account) now\n"
    assert blocks["accept_reservations"] == "- does redrobin take reservations\n"


def test_config_with_epochs_changes_every_epochs_value_and_nothing_else() -> None:
    config = (ROOT / "config.yml").read_text(encoding="utf-8")

    changed = config_with_epochs(config, 1)

    assert yaml.safe_load(changed)["pipeline"] == [
        {**component, "epochs": 1} if "epochs" in component else component
        for component in yaml.safe_load(config)["pipeline"]
    ]
    policies = yaml.safe_load(changed).get("policies") or []
    assert all(policy.get("epochs", 1) == 1 for policy in policies)
    assert changed.count("\n") == config.count("\n") and "#" in changed


def test_config_with_epochs_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        config_with_epochs("epochs: 5\n", 0)
    with pytest.raises(ValueError, match="no `epochs:`"):
        config_with_epochs("pipeline: []\n", 3)


def test_config_with_encoder_points_the_featurizer_at_the_tuned_encoder(tmp_path: Path) -> None:
    config = (ROOT / "config.yml").read_text(encoding="utf-8")
    encoder = tmp_path / "with space" / "encoder"

    changed = yaml.safe_load(config_with_encoder(config, encoder))

    featurizers = [c for c in changed["pipeline"] if c["name"] == "nlu.featurizer.MiniLMFeaturizer"]
    assert [c["model_dir"] for c in featurizers] == [str(encoder)]
    others = [c for c in changed["pipeline"] if c["name"] != "nlu.featurizer.MiniLMFeaturizer"]
    assert others == [c for c in yaml.safe_load(config)["pipeline"] if c["name"] != "nlu.featurizer.MiniLMFeaturizer"]
    with pytest.raises(ValueError, match="no `model_dir:`"):
        config_with_encoder("pipeline: []\n", encoder)


def test_pipeline_summary_names_components_with_their_options() -> None:
    config = """
pipeline:
  - name: WhitespaceTokenizer
  - name: DIETClassifier
    epochs: 60
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.55
"""
    summary = pipeline_summary(config)

    assert summary == (
        "WhitespaceTokenizer, DIETClassifier (epochs 60, constrain_similarities True), "
        "FallbackClassifier (threshold 0.55)"
    )


def test_run_streaming_copies_output_to_the_log_and_raises_with_its_tail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rasa = RasaEnvironment(Path(sys.executable), tmp_path, {})
    script = "import sys; print('epoch 1', flush=True); sys.stderr.write('\\rbar 50%'); sys.exit(3)"

    with pytest.raises(RasaError, match="status 3") as error:
        run_streaming([sys.executable, "-c", script], rasa, tmp_path / "run.log", tmp_path / "cache")

    assert "bar 50%" in str(error.value)
    assert (tmp_path / "run.log").read_text(encoding="utf-8").startswith("epoch 1")
    assert "epoch 1" in capsys.readouterr().err


def test_missing_rasa_executable_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RasaError, match="--rasa-bin"):
        RasaEnvironment(tmp_path / "bin" / "rasa", tmp_path, {}).check()


def test_a_second_run_on_the_same_work_folder_is_refused(tmp_path: Path) -> None:
    rasa = RasaEnvironment(Path(sys.executable), tmp_path, {})  # its python is beside it, so the check passes
    work_dir = tmp_path / "nlu" / "toy"
    work_dir.mkdir(parents=True)
    (work_dir / "model.tar.gz").write_text("being trained", encoding="utf-8")
    dataset = Dataset("toy", [Example("hi", "greet")], [Example("hello", "greet")], [Example("hey", "greet")])

    with (tmp_path / "nlu" / "toy.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RasaError, match="another benchmark run"):
            run_nlu_benchmark(dataset, rasa, ROOT / "config.yml", work_dir)

    assert (work_dir / "model.tar.gz").is_file(), "the running benchmark's folder was emptied"
