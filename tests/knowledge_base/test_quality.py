"""Retrieval quality of the shipped articles with the real MiniLM model and FAISS, on labelled questions.

`labelled_questions.yml` lists `{question, article, section}` (article = "<category>/<slug>", section = the exact
`##` heading or "lead"); `typo_questions.yml` lists misspelt ones the same way; `unanswerable_questions.yml` lists
questions the articles cannot answer.
"""

from pathlib import Path

import pytest
import yaml

from keepwell.settings import CoreSettings
from knowledge_base import KnowledgeBase, SearchResult, SentenceTransformerEmbedder
from knowledge_base.documents import chunk_article, load_articles

HERE = Path(__file__).resolve().parent
CONTENT_DIR = HERE.parents[1] / "knowledge_base" / "content"
LABELLED = HERE / "labelled_questions.yml"
UNANSWERABLE = HERE / "unanswerable_questions.yml"
TYPOS = HERE / "typo_questions.yml"
# Regression guards a little under the figures measured in benchmarks/results/keepwell-kb.md: article 0.963,
# section 0.832 with the authors' section questions (the goal of 0.90 is not reached), misspelt questions' 0.932.
MIN_TOP1_ACCURACY = 0.94
MIN_SECTION_TOP1 = 0.81
MIN_TYPO_TOP1 = 0.88
MIN_UNANSWERABLE_REFUSED = 0.80


def _read_yaml_list(path: Path) -> list[object]:
    assert path.is_file(), f"{path.name} is missing: quality cannot be measured without it ({path})"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and data, f"{path} must hold a non-empty YAML list"
    return data


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped articles indexed with the configured model, settings' thresholds, into a temporary directory."""
    assert CONTENT_DIR.is_dir() and any(CONTENT_DIR.glob("*/*.md")), f"no articles in {CONTENT_DIR}"
    settings = CoreSettings()
    kb = KnowledgeBase(
        embedder=SentenceTransformerEmbedder(settings.resolved_embedding_model_path),
        index_dir=tmp_path_factory.mktemp("kb") / "index",
        content_dir=CONTENT_DIR,
        min_score=settings.kb_min_score,
    )
    kb.build()
    return kb


@pytest.fixture(scope="module")
def labelled() -> list[tuple[str, str, str]]:
    triples = []
    for number, item in enumerate(_read_yaml_list(LABELLED), start=1):
        assert isinstance(item, dict) and {"question", "article", "section"} <= item.keys(), (
            f"{LABELLED.name} item {number} must be a mapping with 'question', 'article' and 'section': {item!r}"
        )
        triples.append((str(item["question"]), str(item["article"]), str(item["section"])))
    return triples


@pytest.fixture(scope="module")
def answers(knowledge_base: KnowledgeBase, labelled: list[tuple[str, str, str]]) -> list[SearchResult]:
    """Each labelled question searched once (top 1); the article and the section checks read the same answers."""
    return [knowledge_base.search(question, k=1) for question, _, _ in labelled]


@pytest.fixture(scope="module")
def anchors() -> dict[tuple[str, str], str]:
    """(article id, section label) -> help-page anchor; the lead is labelled "lead" and has the anchor ""."""
    return {
        (chunk.article_id, chunk.section if chunk.anchor else "lead"): chunk.anchor
        for article in load_articles(CONTENT_DIR)
        for chunk in chunk_article(article)
    }


def test_every_labelled_article_and_section_exists(
    labelled: list[tuple[str, str, str]], anchors: dict[tuple[str, str], str]
) -> None:
    known = {article.id for article in load_articles(CONTENT_DIR)}

    unknown = sorted({article for _, article, _ in labelled} - known)
    no_section = sorted({(a, s) for _, a, s in labelled if a in known and (a, s) not in anchors})

    assert not unknown, f"{LABELLED.name} names articles that do not exist: {unknown}"
    assert not no_section, f"{LABELLED.name} names sections that do not exist: {no_section}"


def test_top1_accuracy_on_labelled_questions(
    answers: list[SearchResult], labelled: list[tuple[str, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    misses = []
    confident = 0
    for (question, expected, _), result in zip(labelled, answers, strict=True):
        found = result.passages[0].article_id if result.passages else None
        confident += result.confident
        if found != expected:
            misses.append(f"  {question!r}: expected {expected}, got {found}")

    accuracy = 1 - len(misses) / len(labelled)
    with capsys.disabled():
        print(f"\nknowledge base top-1 accuracy: {accuracy:.3f} ({len(labelled) - len(misses)}/{len(labelled)}); "
              f"confident on {confident / len(labelled):.3f} of these answerable questions")  # fmt: skip
        print("\n".join(misses))
    assert accuracy >= MIN_TOP1_ACCURACY, f"top-1 accuracy {accuracy:.3f} < {MIN_TOP1_ACCURACY}:\n" + "\n".join(misses)


def test_section_top1_on_labelled_questions(
    answers: list[SearchResult],
    labelled: list[tuple[str, str, str]],
    anchors: dict[tuple[str, str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    misses = []
    for (question, article, section), result in zip(labelled, answers, strict=True):
        best = result.best
        found = (best.article_id, best.anchor) if best else None
        if found != (article, anchors[article, section]):
            misses.append(f"  {question!r}: expected {article} § {section}, got {best and best.article_id} § "
                          f"{best and best.section}")  # fmt: skip

    accuracy = 1 - len(misses) / len(labelled)
    with capsys.disabled():
        print(f"\nknowledge base section top-1: {accuracy:.3f} ({len(labelled) - len(misses)}/{len(labelled)})")
        print("\n".join(misses))
    assert accuracy >= MIN_SECTION_TOP1, f"section top-1 {accuracy:.3f} < {MIN_SECTION_TOP1}:\n" + "\n".join(misses)


def test_top1_accuracy_on_misspelt_questions(knowledge_base: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    misses, items = [], _read_yaml_list(TYPOS)
    for item in items:
        assert isinstance(item, dict) and {"question", "article"} <= item.keys(), f"{TYPOS.name}: {item!r}"
        best = knowledge_base.search(str(item["question"]), k=1).best
        if best is None or best.article_id != item["article"]:
            misses.append(f"  {item['question']!r}: expected {item['article']}, got {best and best.article_id}")

    accuracy = 1 - len(misses) / len(items)
    with capsys.disabled():
        print(f"\nknowledge base top-1 on misspelt questions: {accuracy:.3f} ({len(items) - len(misses)}/{len(items)})")
        print("\n".join(misses))
    assert accuracy >= MIN_TYPO_TOP1, f"misspelt top-1 {accuracy:.3f} < {MIN_TYPO_TOP1}:\n" + "\n".join(misses)


def test_unanswerable_questions_are_not_confident(
    knowledge_base: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = _read_yaml_list(UNANSWERABLE)
    assert all(isinstance(q, str) and q.strip() for q in questions), f"{UNANSWERABLE.name} must list questions"

    confident = []
    for question in questions:
        result = knowledge_base.search(str(question), k=1)
        if result.confident:
            best = result.passages[0]
            confident.append(f"  {question!r}: {best.article_id} at {best.score:.3f}")

    refused = 1 - len(confident) / len(questions)
    with capsys.disabled():
        print(f"\nunanswerable questions refused: {refused:.3f} (threshold {knowledge_base.min_score:.2f})")
        print("\n".join(confident))
    assert refused >= MIN_UNANSWERABLE_REFUSED, (
        f"only {refused:.3f} of unanswerable questions refused (< {MIN_UNANSWERABLE_REFUSED}):\n" + "\n".join(confident)
    )
