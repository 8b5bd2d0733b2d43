"""The KnowledgeBase facade with the fake embedder and the exact index."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from knowledge_base import SentenceTransformerEmbedder, from_settings
from knowledge_base.documents import ArticleError
from knowledge_base.engine import KnowledgeBase
from knowledge_base.ranking import Weights
from knowledge_base.store import MANIFEST_FILE, IndexMismatchError, load_index

# The fixture's three articles: 8 chunks (leads and sections), plus one row per sentence of each.
CHUNKS, ROWS = 8, 20


def test_first_build_encodes_every_chunk_and_saves(make_kb, fake_embedder, tmp_path: Path) -> None:
    kb = make_kb()
    assert not kb.ready

    report = kb.build()

    assert report.rebuilt and kb.ready
    assert (report.articles, report.chunks) == (3, CHUNKS)
    assert fake_embedder.passages_encoded == ROWS
    assert "no knowledge-base index" in report.reason
    assert (tmp_path / "index" / MANIFEST_FILE).is_file()


def test_search_returns_the_matching_article_with_its_url(make_kb) -> None:
    result = make_kb().search("download an invoice PDF")

    best = result.passages[0]
    assert (best.article_id, best.url) == ("billing/download-invoices", "/help/billing/download-invoices")
    assert best.title == "Download invoices"
    assert "invoice" in best.text.lower()
    assert result.confident
    assert result.query == "download an invoice PDF"


def test_passages_are_one_per_article_best_first(make_kb) -> None:
    # "billing" and "invoices" appear in several sections of the invoices article and in the cancellation one.
    result = make_kb().search("billing invoices", k=3)

    article_ids = [p.article_id for p in result.passages]
    assert len(article_ids) == len(set(article_ids)) == 3
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)


def test_k_limits_the_passages(make_kb) -> None:
    kb = make_kb(top_k=2)

    assert len(kb.search("billing invoices").passages) == 2
    assert len(kb.search("billing invoices", k=1).passages) == 1
    assert len(kb.search("billing invoices", k=10).passages) == 3  # only three articles exist


def test_confidence_follows_the_minimum_score(make_kb) -> None:
    kb = make_kb(min_score=0.40)
    unrelated = kb.search("quantum chromodynamics lecture")
    assert not unrelated.confident
    assert unrelated.passages[0].score < 0.40

    strict = make_kb(min_score=0.99)
    assert not strict.search("download an invoice PDF").confident


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_queries_are_refused(make_kb, query: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        make_kb().search(query)


def test_k_below_one_is_refused(make_kb) -> None:
    with pytest.raises(ValueError, match="k must be"):
        make_kb().search("invoices", k=0)


def test_search_builds_on_first_use(make_kb, fake_embedder) -> None:
    kb = make_kb()

    kb.search("invite teammates")

    assert kb.ready
    assert fake_embedder.passages_encoded == ROWS


def test_unchanged_content_and_model_load_instead_of_rebuilding(make_kb, fake_embedder) -> None:
    make_kb().build()
    fake_embedder.passages_encoded = 0

    report = make_kb().build()

    assert not report.rebuilt
    assert (report.articles, report.chunks) == (3, CHUNKS)
    assert fake_embedder.passages_encoded == 0


def test_force_rebuilds(make_kb, fake_embedder) -> None:
    make_kb().build()

    report = make_kb().build(force=True)

    assert report.rebuilt and report.reason == "forced"
    assert fake_embedder.passages_encoded == 2 * ROWS


def test_changed_content_rebuilds(make_kb, write_article, fake_embedder) -> None:
    make_kb().build()
    write_article("features", "time-tracking", "Track time", "Start a timer on any task.")

    kb = make_kb()
    report = kb.build()

    assert report.rebuilt and report.reason == "content changed"
    assert report.articles == 4
    assert kb.search("start a timer").passages[0].article_id == "features/time-tracking"


def test_a_different_model_rebuilds_and_the_old_index_is_refused_without_rebuild(
    make_kb, make_embedder, tmp_path: Path
) -> None:
    make_kb().build()
    other = make_embedder(name="fake-bow-32", dimension=32)

    with pytest.raises(IndexMismatchError):
        load_index(tmp_path / "index", model=other.name, dimension=other.dimension)

    report = make_kb(embedder=other).build()

    assert report.rebuilt and "model changed" in report.reason
    assert other.passages_encoded == ROWS
    assert load_index(tmp_path / "index", model=other.name, dimension=32).manifest.dimension == 32


def test_a_corrupt_index_is_rebuilt(make_kb, tmp_path: Path) -> None:
    make_kb().build()
    (tmp_path / "index" / "chunks.json").write_text("[truncated")

    report = make_kb().build()

    assert report.rebuilt and "unreadable" in report.reason


def test_a_changed_base_url_rebuilds_with_new_urls(make_kb) -> None:
    make_kb().build()

    kb = make_kb(base_url="/docs")

    assert kb.build().rebuilt
    assert kb.search("download an invoice PDF").passages[0].url == "/docs/billing/download-invoices"


def test_no_articles_is_an_error(make_kb, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(ArticleError, match="no articles"):
        make_kb(content_dir=empty).build()


def test_concurrent_first_searches_build_once_and_agree(make_kb, fake_embedder) -> None:
    kb = make_kb()
    queries = ["download an invoice PDF", "invite teammates by email", "cancel subscription"]
    start = threading.Barrier(8)

    def worker(_: int) -> list[str]:
        start.wait()  # all threads hit the unbuilt knowledge base together
        return [kb.search(query).passages[0].article_id for query in queries * 5]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(worker, range(8)))

    assert fake_embedder.passages_encoded == ROWS
    expected = ["billing/download-invoices", "getting-started/invite-teammates", "billing/cancel-subscription"] * 5
    assert answers == [expected] * 8


def test_stats_describe_the_index_without_loading_it(make_kb, write_article) -> None:
    make_kb().build()
    kb = make_kb()

    stats = kb.stats()

    assert not stats["ready"]
    assert (stats["model"], stats["dimension"], stats["articles"], stats["chunks"]) == ("fake-bow-256", 256, 3, ROWS)
    assert stats["index_kind"] == "exact"
    assert stats["model_matches"] and stats["content_up_to_date"]
    write_article("features", "goals", "Set goals", "Goals track outcomes.")
    assert kb.stats()["content_up_to_date"] is False


def test_stats_before_any_build(make_kb) -> None:
    stats = make_kb().stats()

    assert not stats["ready"]
    assert "no knowledge-base index" in stats["index"]
    assert "model" not in stats


def test_from_settings_wires_core_settings(tmp_path: Path) -> None:
    from keepwell.settings import CoreSettings

    settings = CoreSettings(
        data_dir=tmp_path,
        kb_content_dir=tmp_path / "articles",
        embedding_model_path=tmp_path / "model",
        kb_min_score=0.5,
        kb_top_k=5,
        help_base_url="/support",
    )

    kb = from_settings(settings)

    assert isinstance(kb, KnowledgeBase)
    assert kb.index_dir == tmp_path / "kb_index"
    assert kb.content_dir == tmp_path / "articles"
    assert (kb.base_url, kb.min_score, kb.top_k) == ("/support", 0.5, 5)
    assert kb.embedder.model_path == tmp_path / "model"
    assert not kb.ready


# SentenceTransformerEmbedder, the engine's real embedder: naming, lazy loading and batching, with a stub model.


class _StubModel:
    """Stands in for SentenceTransformer: a vector per text that encodes its length, unnormalised."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def get_embedding_dimension(self) -> int:
        return 2

    def encode_document(self, texts: list[str], **options: object) -> np.ndarray:
        assert options["normalize_embeddings"] is True
        self.batches.append(texts)
        return np.array([[len(text), 1.0] for text in texts])

    encode_query = encode_document


def test_embedder_name_comes_from_folder_and_config_without_loading(tmp_path: Path) -> None:
    model_dir = tmp_path / "minilm" / "model"
    model_dir.mkdir(parents=True)
    (model_dir / "config.json").write_text('{"_name_or_path": "org/base-model"}')
    embedder = SentenceTransformerEmbedder(model_dir)

    assert embedder.name == "minilm/model:org/base-model"
    assert SentenceTransformerEmbedder(tmp_path / "plain-folder").name == "plain-folder"
    assert embedder._model is None


def test_embedder_loads_on_first_use_and_never_from_a_hub(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(tmp_path / "missing-model")  # constructing reads nothing

    with pytest.raises(FileNotFoundError, match="embedding model directory not found"):
        embedder.encode_queries(["hello"])


def test_embedder_batches_by_length_and_returns_rows_in_input_order(tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(tmp_path, batch_size=2)
    stub = _StubModel()
    embedder._model = stub  # type: ignore[assignment]
    texts = ["ab", "abcdef", "a", "abcd", "abc"]

    vectors = embedder.encode_passages(texts)

    assert stub.batches == [["abcdef", "abcd"], ["abc", "ab"], ["a"]]
    expected = (
        np.array([[len(t), 1.0] for t in texts]) / np.linalg.norm([[len(t), 1.0] for t in texts], axis=1)[:, None]
    )
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert vectors.dtype == np.float32
    assert embedder.encode_queries([]).shape == (0, 2)
    np.testing.assert_allclose(np.linalg.norm(embedder.encode_queries(["abc"]), axis=1), [1.0], rtol=1e-6)


def test_close_runner_up_makes_the_result_ambiguous(make_kb) -> None:
    plain = make_kb(min_score=0.0).search("billing invoices")
    gap = plain.passages[0].score - plain.passages[1].score
    assert not plain.ambiguous  # margin 0: never ambiguous

    assert make_kb(min_score=0.0, ambiguity_margin=gap + 0.01).search("billing invoices").ambiguous
    assert not make_kb(min_score=0.0, ambiguity_margin=max(gap - 0.01, 0.0)).search("billing invoices").ambiguous


def test_unconfident_result_is_never_ambiguous(make_kb) -> None:
    assert not make_kb(min_score=0.99, ambiguity_margin=1.0).search("billing invoices").ambiguous


def test_search_within_a_picked_article(make_kb) -> None:
    result = make_kb().search("billing invoices", article_id="billing/download-invoices")
    assert result.confident
    assert [p.article_id for p in result.passages] == ["billing/download-invoices"]
    assert make_kb().search("billing invoices", article_id="no/such-article").passages == []


def test_passages_link_to_their_section_anchor(make_kb) -> None:
    best = make_kb().search("billing admins download any PDF").passages[0]

    assert (best.article_id, best.section) == ("billing/download-invoices", "Find past invoices")
    assert best.anchor == "find-past-invoices"
    assert best.section_url == "/help/billing/download-invoices#find-past-invoices"


def test_a_lead_passage_links_to_the_article_itself(make_kb) -> None:
    best = make_kb().search("every payment produces an invoice").passages[0]

    assert (best.section, best.anchor) == ("Download invoices", "")
    assert best.section_url == best.url == "/help/billing/download-invoices"


def test_the_section_is_chosen_by_its_best_sentence_and_the_lead_needs_a_margin(make_kb, write_article) -> None:
    write_article(
        "troubleshooting",
        "reset-password",
        "Reset your password",
        """
        Forgot it? Reset your password here.

        ## Steps
        Click Forgot password on the sign-in page and wait for our message in your inbox.
        The reset link expires after one hour.
        Choose a new password with ten or more characters, mixing letters, digits and symbols.
        Sign in again on every device you use, including phones, tablets and desktop apps.
        """,
        summary=None,
    )
    # The lead's whole chunk is closer than the long steps section, but one sentence of the steps is closer still.
    question = "reset password link expires hour"

    dense = {"lexical": 0.0}  # the lexical score would favour the lead's "Reset your password" words
    before = make_kb(weights=Weights(by_sentence=False, lead_margin=0.0, **dense)).search(question, k=1).passages[0]
    by_sentence = make_kb(weights=Weights(lead_margin=0.0, **dense)).search(question, k=1).passages[0]
    lead_only = make_kb(weights=Weights(by_sentence=False, lead_margin=1.0, **dense)).search(question, k=1).passages[0]

    assert before.article_id == by_sentence.article_id == lead_only.article_id == "troubleshooting/reset-password"
    assert (before.section, by_sentence.section, lead_only.section) == ("Reset your password", "Steps", "Steps")
    # Ranking and confidence keep the article's best chunk cosine, whichever section answers.
    assert by_sentence.score == pytest.approx(before.score)


def test_every_section_of_the_chosen_article_competes(make_kb, write_article) -> None:
    # The numbered section shares no word with the question, so it would not be among the top-ranked rows.
    write_article(
        "features",
        "exports",
        "Export projects",
        """
        Export projects as CSV or JSON files, whole projects or single projects, for backups.

        ## Zebra
        1. Open the menu.
        2. Pick a format.
        """,
        summary=None,
    )

    best = make_kb(weights=Weights(lead_margin=1.0)).search("export projects as CSV", k=1).passages[0]

    assert (best.article_id, best.section, best.anchor) == ("features/exports", "Zebra", "zebra")


def test_a_query_encoded_once_serves_several_searches(make_kb, fake_embedder) -> None:
    kb = make_kb()
    kb.build()
    fake_embedder.queries_encoded = 0

    vector = kb.encode_query("how do I cancel my subscription")
    anywhere = kb.search("how do I cancel my subscription", vector=vector)
    inside = kb.search("how do I cancel my subscription", article_id="billing/download-invoices", vector=vector)

    assert fake_embedder.queries_encoded == 1
    assert anywhere.best is not None and anywhere.best.article_id == "billing/cancel-subscription"
    assert [p.article_id for p in inside.passages] == ["billing/download-invoices"]
    assert anywhere.passages == kb.search("how do I cancel my subscription").passages


def test_misspelt_words_are_corrected_against_the_help_centre(make_kb) -> None:
    kb = make_kb()

    corrected = kb.search("cancle my subscripton")
    uncorrected = make_kb(spelling=False).search("cancle my subscripton")

    assert corrected.query == "cancle my subscripton"  # the customer's words are kept for the record
    assert corrected.best is not None and corrected.best.article_id == "billing/cancel-subscription"
    assert corrected.confident and not uncorrected.confident


# Questions an article's author says a section answers (front matter `questions:`).

MEMBERS = """
Owners and Admins manage the people in a workspace.

## Change a member's role
Open Settings > Members and pick a role from the Role dropdown.

## Remove a member
Deactivate someone who left the company.
"""


def _members(write_article, questions: dict[str, object] | None) -> None:
    write_article("admin", "members", "Members", MEMBERS, summary=None, questions=questions)


def test_a_question_row_ranks_its_section(make_kb, write_article, tmp_path: Path) -> None:
    # The question shares no word with its section; the other section shares "someone" with it.
    _members(write_article, {"Change a member's role": ["make someone an admin"]})
    question = "make someone an admin"

    asked = make_kb().search(question, k=1).passages[0]
    plain = make_kb(questions=False, index_dir=tmp_path / "plain").search(question, k=1).passages[0]

    assert (asked.article_id, asked.section, asked.anchor) == (
        "admin/members",
        "Change a member's role",
        "change-a-members-role",
    )
    assert (plain.article_id, plain.section) == ("admin/members", "Remove a member")
    # The confidence stays the article's best whole-chunk cosine: a question row never makes an answer confident.
    assert asked.score == pytest.approx(plain.score)


def test_a_sections_questions_add_their_words_to_its_lexical_score(make_kb, write_article, tmp_path: Path) -> None:
    _members(write_article, {"Change a member's role": ["promote to admin"]})
    # Whole chunks only (no sentence or question rows) and a strong lexical weight: only BM25 can see the question.
    weights = Weights(by_sentence=False, lexical=1.0, lead_margin=0.0)

    question = "promote someone to admin"

    asked = make_kb(weights=weights).search(question, k=1).passages[0]
    plain = make_kb(weights=weights, questions=False, index_dir=tmp_path / "plain").search(question, k=1).passages[0]

    assert asked.section == "Change a member's role"
    assert plain.section == "Remove a member"


def test_questions_are_rows_of_the_index_and_changing_them_rebuilds(make_kb, write_article, fake_embedder) -> None:
    _members(write_article, {"Change a member's role": ["make someone an admin", "change a role"]})
    kb = make_kb()
    built = kb.build()
    encoded = fake_embedder.passages_encoded

    _members(write_article, {"Change a member's role": ["make someone an admin"]})
    rebuilt = make_kb().build()

    assert built.rebuilt and rebuilt.rebuilt and rebuilt.reason == "content changed"
    assert built.chunks == rebuilt.chunks  # questions are rows, not chunks
    # The same rows but one question fewer: every remaining row keeps its vector, nothing is encoded again.
    assert fake_embedder.passages_encoded == encoded
    assert (rebuilt.encoded, rebuilt.reused) == (0, encoded - 1)


def test_without_questions_the_index_is_the_one_before_them(make_kb, write_article, fake_embedder) -> None:
    _members(write_article, None)
    make_kb().build()
    without = fake_embedder.passages_encoded

    _members(write_article, {"Change a member's role": ["make someone an admin"]})
    kb = make_kb(questions=False)
    report = kb.build()

    assert not report.rebuilt  # the articles without their questions hash as before
    assert fake_embedder.passages_encoded == without
    assert kb.stats()["content_up_to_date"]


def test_with_the_real_model_a_question_row_ranks_its_section(write_article, tmp_path: Path) -> None:
    from keepwell.settings import CoreSettings

    embedder = SentenceTransformerEmbedder(CoreSettings().resolved_embedding_model_path)
    # The customer's words ("make ... an admin") are the author's question's, not the section's ("role").
    _members(write_article, {"Change a member's role": ["make someone an admin"]})

    def answer(questions: bool) -> str:
        kb = KnowledgeBase(embedder, tmp_path / f"index-{questions}", tmp_path / "content", questions=questions)
        best = kb.search("make my colleague an admin", k=1).best
        assert best is not None
        return best.section

    assert answer(questions=False) != "Change a member's role"
    assert answer(questions=True) == "Change a member's role"


def test_editing_one_article_encodes_only_its_rows(make_kb, write_article, fake_embedder) -> None:
    first = make_kb().build()
    all_rows = fake_embedder.passages_encoded
    write_article("billing", "cancel-subscription", "Cancel your subscription",
                  "Cancelling stops renewal.\n\n## Cancel a plan\nOwners open Billing and click Cancel now.",
                  summary="Stop paying for Orbitly.")  # fmt: skip

    second = make_kb().build()

    assert first.encoded == all_rows and first.reused == 0 and second.rebuilt
    # Only the rows whose text changed: the lead and the section, each a chunk row and one sentence row.
    assert second.encoded == fake_embedder.passages_encoded - all_rows == 4
    assert second.reused > 10
    assert second.generation == first.generation + 1
    assert make_kb().search("click cancel now").best.article_id == "billing/cancel-subscription"
    assert make_kb().build(force=True).encoded == second.encoded + second.reused  # force encodes everything


def test_a_running_knowledge_base_picks_up_a_newer_generation(make_kb, write_article) -> None:
    bot = make_kb(reload_interval_s=0)
    bot.build()
    assert bot.search("refund").best.article_id != "billing/refunds"
    write_article("billing", "refunds", "Refunds", "Refunds go back to the card.\n\n## Ask for a refund\nWrite to us.")

    console = make_kb()
    report = console.build()

    assert bot.search("refund card").best.article_id == "billing/refunds"  # no restart, no build in `bot`
    assert bot.stats()["generation"] == report.generation


def test_the_reload_check_waits_for_its_interval(make_kb, write_article) -> None:
    bot = make_kb(reload_interval_s=3600)
    bot.build()
    write_article("billing", "refunds", "Refunds", "Refunds go back to the card.")
    make_kb().build()
    assert bot.search("refunds card").best.article_id != "billing/refunds"
