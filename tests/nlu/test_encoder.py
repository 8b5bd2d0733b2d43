"""OnnxSentenceEncoder against sentence-transformers, batching, token vectors and span alignment."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from nlu.encoder import (
    MANIFEST_FILE,
    EncoderError,
    EncoderNotFoundError,
    OnnxSentenceEncoder,
    TokenEncoding,
)

SENTENCES = [
    "hi",
    "thanks a lot!",
    "no",
    "How do I invite a guest to one board only?",
    "what's our health score",
    "When does our subscription renew?",
    "Does Orbitly support SCIM provisioning with Okta?",
    "I'd like to talk to a real person, please.",
    "the kanban board gets slow with lots of cards",
    "Can I pay by bank transfer in EUR or GBP?",
    "SSO/SAML set-up fails with 'invalid audience' — help!!",
    "Café owners can't log in après the update 🚀",
    "ORBITLY API RATE LIMIT???",
    "how   many\tseats\ndo we have left",
    "where do I download invoices (PDF) for 2025-Q3",
    "",
    "   ",
    "supercalifragilisticexpialidocious automationsproaddon",
    "Automations run when a task moves to Done. " * 60,  # ~480 word pieces: truncated at 256
    "Is the Growth plan $24 per seat per month, and is there a 20% discount if we pay annually?",
]


@pytest.fixture(scope="module")
def encoder(encoder_dir: Path) -> OnnxSentenceEncoder:
    return OnnxSentenceEncoder(encoder_dir)


@pytest.fixture(scope="module")
def reference(sentence_transformer: SentenceTransformer) -> np.ndarray:
    return np.asarray(sentence_transformer.encode(SENTENCES, batch_size=8, normalize_embeddings=True))


def test_vectors_match_sentence_transformers(encoder: OnnxSentenceEncoder, reference: np.ndarray) -> None:
    vectors = encoder.encode(SENTENCES)

    assert vectors.shape == (len(SENTENCES), 384)
    assert vectors.dtype == np.float32
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, dict(zip(SENTENCES, cosines.round(6), strict=True))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_long_texts_are_truncated_like_sentence_transformers(
    encoder: OnnxSentenceEncoder, sentence_transformer: SentenceTransformer
) -> None:
    long_text = SENTENCES[-2]
    longer_text = long_text + " And then everything after the cut is ignored entirely."

    vectors = encoder.encode([long_text, longer_text])

    assert encoder.max_seq_length == sentence_transformer.max_seq_length == 256
    assert float(vectors[0] @ vectors[1]) > 0.99999  # the extra words fall past the 256th word piece
    (pieces,) = encoder.encode_tokens([long_text])
    assert len(pieces.vectors) == 256 - 2  # [CLS] and [SEP] take two of the 256


@pytest.mark.parametrize("batch_size", [1, 3, 7, 64])
def test_batch_size_and_order_do_not_change_the_vectors(encoder: OnnxSentenceEncoder, batch_size: int) -> None:
    expected = encoder.encode(SENTENCES, batch_size=len(SENTENCES))
    shuffled = np.random.default_rng(7).permutation(len(SENTENCES))

    vectors = encoder.encode([SENTENCES[i] for i in shuffled], batch_size=batch_size)

    np.testing.assert_allclose(vectors, expected[shuffled], atol=1e-5)


def test_an_empty_list_gives_an_empty_matrix(encoder: OnnxSentenceEncoder) -> None:
    vectors = encoder.encode([])

    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32
    assert encoder.encode_tokens([]) == []


def test_bad_arguments_are_refused(encoder_dir: Path, encoder: OnnxSentenceEncoder) -> None:
    with pytest.raises(TypeError, match="not a string"):
        encoder.encode("hello")
    with pytest.raises(ValueError, match="batch_size"):
        encoder.encode(["hello"], batch_size=0)
    with pytest.raises(ValueError, match="threads"):
        OnnxSentenceEncoder(encoder_dir, threads=0)


def test_encode_tokens_gives_the_sentence_vector_and_word_pieces_with_offsets(encoder: OnnxSentenceEncoder) -> None:
    text = "Connect Orbitly to Slack?"

    (encoding,) = encoder.encode_tokens([text])

    np.testing.assert_allclose(encoding.sentence, encoder.encode([text])[0], atol=1e-6)
    pieces = [text[start:end] for start, end in encoding.offsets]
    assert pieces == ["Connect", "Orbit", "ly", "to", "Slack", "?"]  # no [CLS]/[SEP], offsets in the original text
    assert encoding.vectors.shape == (6, 384)
    assert encoding.vectors.dtype == np.float32


def test_token_vectors_do_not_depend_on_the_batch(encoder: OnnxSentenceEncoder) -> None:
    alone = encoder.encode_tokens(["Connect Orbitly to Slack?"])[0]

    batched = encoder.encode_tokens(["hi", "Connect Orbitly to Slack?", SENTENCES[-1]], batch_size=3)[1]

    np.testing.assert_allclose(batched.vectors, alone.vectors, atol=1e-5)
    np.testing.assert_array_equal(batched.offsets, alone.offsets)


def test_span_vectors_average_the_overlapping_word_pieces() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [4.0, 4.0]], dtype=np.float32)
    encoding = TokenEncoding(
        sentence=np.zeros(2, dtype=np.float32),
        vectors=vectors,
        offsets=np.array([[0, 5], [5, 7], [8, 10]]),  # "Orbit" "ly" " " "is"
    )

    aligned = encoding.span_vectors([(0, 7), (8, 10), (6, 9), (11, 14)])

    assert aligned.dtype == np.float32
    np.testing.assert_allclose(aligned[0], [0.5, 0.5])  # both pieces of one word
    np.testing.assert_allclose(aligned[1], [4.0, 4.0])  # one piece
    np.testing.assert_allclose(aligned[2], [2.0, 2.5])  # a span straddling two words takes both
    np.testing.assert_allclose(aligned[3], [0.0, 0.0])  # no piece there (e.g. truncated)
    assert encoding.span_vectors([]).shape == (0, 2)


def test_nothing_is_read_until_first_use_and_a_missing_export_says_how_to_make_one(tmp_path: Path) -> None:
    encoder = OnnxSentenceEncoder(tmp_path / "missing")  # constructing reads nothing

    with pytest.raises(EncoderNotFoundError, match=r"python -m nlu\.export --out"):
        encoder.encode(["hello"])


def test_an_export_of_another_format_is_refused(tmp_path: Path, encoder_dir: Path) -> None:
    manifest = json.loads((encoder_dir / MANIFEST_FILE).read_text())
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "format_version": 99}))

    with pytest.raises(EncoderError, match="format version 99"):
        OnnxSentenceEncoder(tmp_path).load()


def test_concurrent_encodes_agree(encoder: OnnxSentenceEncoder) -> None:
    expected = encoder.encode(SENTENCES)
    results: list[np.ndarray] = []
    fresh = OnnxSentenceEncoder(encoder.model_dir)  # loads under concurrent first use

    def work() -> None:
        results.append(fresh.encode(SENTENCES, batch_size=4))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4
    for vectors in results:
        np.testing.assert_allclose(vectors, expected, atol=1e-5)
