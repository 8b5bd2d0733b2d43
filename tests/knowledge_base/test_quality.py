"""Retrieval quality of the shipped articles with the real MiniLM model and FAISS, on labelled questions.

`labelled_questions.yml` lists `{question, article}` pairs (article = "<category>/<slug>");
`unanswerable_questions.yml` lists questions the articles cannot answer.
"""

from pathlib import Path

import pytest
import yaml

from keepwell.settings import CoreSettings
from knowledge_base import KnowledgeBase, SentenceTransformerEmbedder
from knowledge_base.documents import load_articles

HERE = Path(__file__).resolve().parent
CONTENT_DIR = HERE.parents[1] / "knowledge_base" / "content"
LABELLED = HERE / "labelled_questions.yml"
UNANSWERABLE = HERE / "unanswerable_questions.yml"
MIN_TOP1_ACCURACY = 0.85
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
def labelled() -> list[tuple[str, str]]:
    pairs = []
    for number, item in enumerate(_read_yaml_list(LABELLED), start=1):
        assert isinstance(item, dict) and {"question", "article"} <= item.keys(), (
            f"{LABELLED.name} item {number} must be a mapping with 'question' and 'article': {item!r}"
        )
        pairs.append((str(item["question"]), str(item["article"])))
    return pairs


def test_every_labelled_article_exists(labelled: list[tuple[str, str]]) -> None:
    known = {article.id for article in load_articles(CONTENT_DIR)}

    unknown = sorted({article for _, article in labelled} - known)

    assert not unknown, f"{LABELLED.name} names articles that do not exist: {unknown}"


def test_top1_accuracy_on_labelled_questions(
    knowledge_base: KnowledgeBase, labelled: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    misses = []
    confident = 0
    for question, expected in labelled:
        result = knowledge_base.search(question, k=1)
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
