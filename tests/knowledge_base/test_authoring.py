"""Authoring articles: create, update, retire and restore through the same validation the index applies."""

import os
from pathlib import Path

import pytest

from knowledge_base.authoring import ArticleStore, AuthoringError, Draft
from knowledge_base.documents import load_articles, read_front_matter


@pytest.fixture
def store(content_dir: Path) -> ArticleStore:
    return ArticleStore(content_dir)


def _draft(**changes: str) -> Draft:
    fields = {
        "category": "billing",
        "slug": "refunds",
        "title": "Refunds",
        "summary": "When we refund.",
        "body": "Refunds go to the card you paid with.\n\n## Ask for a refund\nWrite to billing within 30 days.",
    }
    fields.update(changes)
    return Draft(**fields)


def test_lists_every_article_with_its_category_slug_and_state(store: ArticleStore) -> None:
    listed = store.list()
    assert [a.id for a in listed] == ["billing/cancel-subscription", "billing/download-invoices",
                                      "getting-started/invite-teammates"]  # fmt: skip
    assert not any(a.retired for a in listed)
    assert [a.id for a in store.list("PDF")] == ["billing/download-invoices"]  # the body is searched too
    assert store.categories() == ["billing", "getting-started"]


def test_a_created_article_loads_and_indexes_like_any_other(store: ArticleStore, content_dir: Path) -> None:
    info = store.create(_draft())

    assert info.id == "billing/refunds" and not info.retired
    article = {a.id: a for a in load_articles(content_dir)}["billing/refunds"]
    assert (article.title, article.summary, article.url) == ("Refunds", "When we refund.", "/help/billing/refunds")
    assert "## Ask for a refund" in article.body
    leftovers = [p.name for p in (content_dir / "billing").iterdir() if not p.name.endswith(".md")]
    assert leftovers == []  # the temporary file was renamed into place


def test_update_keeps_the_questions_and_refuses_a_stale_version(store: ArticleStore, write_article) -> None:
    write_article("billing", "refunds", "Refunds", "Lead.\n\n## Ask\nWrite to us.", questions={"Ask": ["refund me"]})
    opened = store.get("billing", "refunds")
    assert opened is not None

    saved = store.update(_draft(title="Refunds and credits", body="Lead.\n\n## Ask\nWrite to billing."),
                         opened.info.version)  # fmt: skip

    meta, body = read_front_matter(store.content_dir / "billing" / "refunds.md")
    assert meta["title"] == "Refunds and credits" and meta["questions"] == {"Ask": ["refund me"]}
    assert body == "Lead.\n\n## Ask\nWrite to billing."
    os.utime(store.content_dir / "billing" / "refunds.md", ns=(1, 1))  # someone else saves in between
    with pytest.raises(AuthoringError, match="after you opened it"):
        store.update(_draft(title="Mine"), saved.version)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"title": "  "}, "title", "Title"),
        ({"slug": "Not A Slug"}, "slug", "lower-case"),
        ({"slug": ""}, "slug", "Slug"),
        ({"category": "nowhere"}, "category", "Category"),
        ({"body": ""}, "body", "Body"),
        ({"body": "---\ntitle: x\n---\nhi"}, "body", "front matter"),
        ({"slug": "cancel-subscription"}, "slug", "already exists"),
    ],
)
def test_invalid_drafts_are_refused_naming_the_field(
    store: ArticleStore, content_dir: Path, changes: dict[str, str], field: str, words: str
) -> None:
    before = _files(content_dir)
    with pytest.raises(AuthoringError, match=words) as raised:
        store.create(_draft(**changes))
    assert raised.value.field == field
    assert _files(content_dir) == before  # nothing written, no temporary file left


def test_an_edit_that_breaks_the_questions_is_refused_and_the_file_kept(store: ArticleStore, write_article) -> None:
    path = write_article("billing", "refunds", "Refunds", "Lead.\n\n## Ask\nWrite.", questions={"Ask": ["refund me"]})
    before = path.read_text()
    with pytest.raises(AuthoringError, match="Ask") as raised:
        store.update(_draft(body="Lead only, the Ask section is gone."))
    assert raised.value.field == "body"
    assert path.read_text() == before


def test_a_retired_article_leaves_the_index_and_can_be_restored(store: ArticleStore, content_dir: Path) -> None:
    info = store.set_retired("billing", "download-invoices", True)

    assert info is not None and info.retired
    assert "billing/download-invoices" not in {a.id for a in load_articles(content_dir)}
    assert [a.retired for a in store.list("invoices")] == [True]  # still listed for the console
    store.set_retired("billing", "download-invoices", False)
    assert "billing/download-invoices" in {a.id for a in load_articles(content_dir)}
    assert store.set_retired("billing", "nope", True) is None
    assert store.set_retired("../etc", "passwd", True) is None


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}
