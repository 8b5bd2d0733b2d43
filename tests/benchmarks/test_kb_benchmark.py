"""The knowledge-base benchmark with the knowledge-base tests' fake embedder: its rows, levers, BM25 and labels."""

from pathlib import Path

import pytest

from benchmarks.kb_benchmark import (
    BM25Articles,
    Labelled,
    gold_sections,
    read_labelled,
    reciprocal_rank_fusion,
    run_kb_benchmark,
    section_top1,
    tokens,
)
from knowledge_base.documents import load_articles
from tests.knowledge_base.conftest import FakeEmbedder, article_text


@pytest.fixture
def help_centre(tmp_path: Path) -> tuple[Path, Path, Path]:
    content = tmp_path / "content"
    articles = {
        ("billing", "invoices"): ("Download invoices", "Find invoice PDF files.\n\n## Address\nBilling address."),
        ("billing", "cancel"): ("Cancel subscription", "Owners cancel the plan.\n\n## Refunds\nNo refunds."),
        ("admin", "sso"): ("Single sign-on", "Configure SAML single sign-on for your identity provider."),
    }
    # Only the author's question says the Address section is where a postcode goes.
    questions = {("billing", "invoices"): {"Address": ["company postcode"]}}
    for (category, slug), (title, body) in articles.items():
        path = content / category / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(title, body, questions=questions.get((category, slug))), encoding="utf-8")
    labelled = tmp_path / "labelled.yml"
    labelled.write_text(
        "- {question: where is my invoice pdf, article: billing/invoices, section: lead}\n"
        "- {question: change my billing address, article: billing/invoices, section: Address}\n"
        "- {question: cancel the plan, article: billing/cancel, section: lead}\n"
        "- {question: saml sign-on setup, article: admin/sso}\n"
        "- {question: our postcode, article: billing/invoices, section: Address}\n",
        encoding="utf-8",
    )
    unanswerable = tmp_path / "unanswerable.yml"
    unanswerable.write_text("- what is the capital of peru\n", encoding="utf-8")
    return content, labelled, unanswerable


def test_kb_benchmark_reports_the_knowledge_base_its_levers_and_bm25(
    tmp_path: Path, help_centre: tuple[Path, Path, Path]
) -> None:
    content, labelled, unanswerable = help_centre
    typos = tmp_path / "typos.yml"
    typos.write_text("- {question: cancle the plan, article: billing/cancel, section: lead}\n", encoding="utf-8")

    result = run_kb_benchmark(
        FakeEmbedder(), content, labelled, unanswerable, tmp_path / "work", min_score=0.3, typo_path=typos
    )

    kb, odd, even, *levers, bm25, hybrid = result.rows
    assert kb.system.startswith("Keepwell knowledge base") and bm25.system.startswith("BM25")
    assert [odd.system, even.system] == [
        "… odd-numbered questions (weights chosen on these)",
        "… even-numbered questions (held out)",
    ]
    halves = ["… odd-numbered questions (weights chosen on these)", "… even-numbered questions (held out)"]
    assert [row.system.split(":")[0] for row in levers] == [
        "Lever off", *halves, *["Lever off"] * 4, "Before issue 8", *halves, "Before section answers",
    ]  # fmt: skip
    no_questions = levers[0]
    assert no_questions.system == "Lever off: no section questions (index built without them)"
    assert no_questions.values["section_top1"] == pytest.approx(75.0)  # the postcode question misses its section
    assert no_questions.values["latency_p50_ms"] is not None
    # The baselines never see the authors' questions: BM25 finds no word of "our postcode" (4 of 5 right).
    assert "reciprocal rank fusion" in hybrid.system and hybrid.values["top1"] == pytest.approx(80.0)
    assert kb.values["top1"] == pytest.approx(100.0) and kb.values["mrr"] == pytest.approx(1.0)
    assert kb.values["section_top1"] == pytest.approx(100.0)  # over the four questions labelled with a section
    assert kb.values["typo_top1"] == pytest.approx(100.0)
    assert odd.values["section_top1"] == pytest.approx(100.0)  # questions 1, 3 and 5, all labelled with a section
    assert even.values["section_top1"] == pytest.approx(100.0)  # question 4 has no section label, so 2 only
    for lever in levers:
        assert lever.values["top1"] is not None and lever.values["section_top1"] is not None
    no_spelling = levers[3]
    assert no_spelling.values["typo_top1"] is not None
    assert kb.values["unanswerable_refused"] == pytest.approx(100.0)
    assert bm25.values["top1"] == pytest.approx(80.0) and bm25.values["section_top1"] == pytest.approx(75.0)
    assert "unanswerable_refused" not in bm25.values
    assert any("4 with the right section" in line for line in result.setup)
    assert any("1 questions the articles' authors say" in line for line in result.setup)
    assert any("encoding the query" in line for line in result.setup)
    assert (tmp_path / "work" / "kb-index").is_dir() and (tmp_path / "work" / "kb-index-no-questions").is_dir()


def test_bm25_ranks_every_article_by_its_best_chunk(help_centre: tuple[Path, Path, Path]) -> None:
    content, _, _ = help_centre

    ranking = BM25Articles(load_articles(content)).rank("refunds after I cancel")

    assert ranking[0] == "billing/cancel"
    assert sorted(ranking) == ["admin/sso", "billing/cancel", "billing/invoices"]


def test_reciprocal_rank_fusion_rewards_items_ranked_well_by_both() -> None:
    dense = ["a", "b", "c"]
    lexical = ["b", "c", "a", "d"]

    # b: 1/62 + 1/61 beats a: 1/61 + 1/63 and c: 1/63 + 1/62; d, in one ranking only, comes last.
    assert reciprocal_rank_fusion([dense, lexical], k=60) == ["b", "a", "c", "d"]
    assert reciprocal_rank_fusion([dense]) == dense


def test_tokens_are_lower_cased_words_and_numbers() -> None:
    assert tokens("Reset 2FA, then SSO-login!") == ["reset", "2fa", "then", "sso", "login"]


def test_bm25_gives_each_article_its_best_section(help_centre: tuple[Path, Path, Path]) -> None:
    content, _, _ = help_centre

    sections = BM25Articles(load_articles(content)).sections("billing address")

    assert sections[0] == ("billing/invoices", "address")


def test_labelled_sections_become_anchors_and_unknown_ones_are_refused(help_centre: tuple[Path, Path, Path]) -> None:
    content, labelled_path, _ = help_centre
    articles = load_articles(content)
    labelled = read_labelled(labelled_path)

    assert labelled[1] == Labelled("change my billing address", "billing/invoices", "Address")
    assert gold_sections(labelled, articles) == [
        ("billing/invoices", ""),
        ("billing/invoices", "address"),
        ("billing/cancel", ""),
        None,
        ("billing/invoices", "address"),
    ]
    with pytest.raises(ValueError, match="has no section 'Refunds policy'"):
        gold_sections([Labelled("q", "billing/cancel", "Refunds policy")], articles)
    with pytest.raises(ValueError, match="no article"):
        gold_sections([Labelled("q", "billing/nope", "lead")], articles)


def test_section_top1_counts_only_questions_labelled_with_a_section() -> None:
    wanted = [("a", ""), ("a", "x"), None, ("b", "y")]
    answers = [("a", ""), ("a", "z"), ("c", ""), None]

    assert section_top1(answers, wanted) == pytest.approx(100 / 3)
    assert section_top1([("a", "")], [None]) is None
