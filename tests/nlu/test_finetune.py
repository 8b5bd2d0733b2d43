"""`python -m nlu.finetune`: reading Rasa NLU files, tuning that separates intents, skipping, and clear errors."""

from pathlib import Path

import numpy as np
import pytest

from nlu.encoder import OnnxSentenceEncoder, read_manifest
from nlu.finetune import (
    FineTuneError,
    FineTuneSettings,
    IntentExample,
    build,
    fingerprint,
    main,
    read_rasa_nlu,
)

# Two intents whose sentences the stock model finds alike ("plan", "team", "seats" in both).
EXAMPLES = [
    *(
        IntentExample(text, "upgrade")
        for text in [
            "upgrade our plan to business",
            "we want more seats on a bigger plan",
            "move the team to the enterprise tier",
            "switch us to a higher plan",
            "add premium features for the team",
            "buy the growth plan for everyone",
        ]
    ),
    *(
        IntentExample(text, "downgrade")
        for text in [
            "downgrade our plan to starter",
            "we need fewer seats on a cheaper plan",
            "move the team to the free tier",
            "switch us to a lower plan",
            "remove premium features for the team",
            "drop to the basic plan for everyone",
        ]
    ),
]
QUICK = FineTuneSettings(epochs=6, min_steps=0, batch_size=8, learning_rate=1e-4, seed=7)


def _separation(encoder_dir: Path) -> float:
    """Mean cosine to same-intent sentences minus mean cosine to the other intent's."""
    vectors = OnnxSentenceEncoder(encoder_dir).encode([e.text for e in EXAMPLES])
    labels = np.array([e.intent for e in EXAMPLES])
    cosines = vectors @ vectors.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    other = labels[:, None] != labels[None, :]
    return float(cosines[same].mean() - cosines[other].mean())


def test_read_rasa_nlu_reads_blocks_and_long_form_and_strips_entity_markup(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        """version: "3.1"
nlu:
  - intent: ask_faq
    examples: |
      - how do I invite a [guest](role)?
      - what is   SSO
      - how do I invite a guest?
  - synonym: sso
    examples: |
      - single sign-on
  - intent: greet
    examples:
      - text: hi there
        metadata: {source: chat}
      - hello
""",
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(
        'nlu:\n  - intent: bye\n    examples: |\n      - see [you]{"entity": "who"} later\n', encoding="utf-8"
    )

    examples = read_rasa_nlu([tmp_path])

    assert examples == [
        IntentExample("how do I invite a guest?", "ask_faq"),  # the marked-up copy and the plain one are one
        IntentExample("what is SSO", "ask_faq"),
        IntentExample("hi there", "greet"),
        IntentExample("hello", "greet"),
        IntentExample("see you later", "bye"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nlu: [unclosed", "is not valid YAML"),
        ("version: '3.1'\nnlu:\n  - synonym: a\n    examples: |\n      - b\n", "no intent examples"),
    ],
)
def test_read_rasa_nlu_rejects_unusable_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FineTuneError, match=message):
        read_rasa_nlu([path])


def test_read_rasa_nlu_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FineTuneError, match=r"not found: .*missing"):
        read_rasa_nlu([tmp_path / "missing"])


def test_fingerprint_changes_with_examples_their_order_settings_and_model() -> None:
    base = fingerprint(EXAMPLES, QUICK, "model-a")
    assert fingerprint(list(EXAMPLES), QUICK, "model-a") == base
    # Batches follow the examples' order, so a reordered file trains other weights and must be tuned again.
    assert fingerprint(list(reversed(EXAMPLES)), QUICK, "model-a") != base
    assert fingerprint(EXAMPLES[:-1], QUICK, "model-a") != base
    assert fingerprint(EXAMPLES, FineTuneSettings(), "model-a") != base
    assert fingerprint(EXAMPLES, QUICK, "model-b") != base


def test_build_tunes_the_encoder_to_separate_the_intents(tmp_path: Path, encoder_dir: Path, model_path: Path) -> None:
    out = tmp_path / "encoder"

    result = build(EXAMPLES, out, QUICK, model_path, progress=False)

    assert result.train_seconds is not None and result.steps == QUICK.steps(len(EXAMPLES))
    manifest = read_manifest(out)
    assert manifest.fine_tuning is not None
    assert manifest.fine_tuning["fingerprint"] == result.fingerprint
    assert manifest.fine_tuning["examples"] == 12 and manifest.fine_tuning["intents"] == 2
    assert manifest.source_model.endswith("fine-tuned")
    assert manifest.parity_min_cosine is not None and manifest.parity_min_cosine > 0.9999
    # encoder_dir is the stock model's export: tuning must pull each intent together and the two apart.
    assert _separation(out) > _separation(encoder_dir) + 0.1


def test_build_skips_an_up_to_date_export_and_redoes_a_changed_one(tmp_path: Path, model_path: Path) -> None:
    out = tmp_path / "encoder"
    first = build(EXAMPLES, out, QUICK, model_path, progress=False)

    again = build(EXAMPLES, out, QUICK, model_path, progress=False)
    changed = build(EXAMPLES[1:], out, QUICK, model_path, progress=False)

    assert again.export.skipped and again.train_seconds is None
    assert again.fingerprint == first.fingerprint
    assert not changed.export.skipped and changed.fingerprint != first.fingerprint
    assert read_manifest(out).fine_tuning["examples"] == 11


def test_build_needs_two_intents(tmp_path: Path, model_path: Path) -> None:
    with pytest.raises(FineTuneError, match="at least two intents"):
        build(EXAMPLES[:6], tmp_path / "encoder", QUICK, model_path, progress=False)
    assert not (tmp_path / "encoder").exists()


def test_cli_reports_bad_data_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "encoder")])

    assert code == 1
    assert "error: training data not found" in capsys.readouterr().err
