"""What the knowledge base gives back: a build's report, and a search's passages (one per article, best first)."""

from dataclasses import dataclass, field

from .documents import section_url


@dataclass(frozen=True)
class BuildReport:
    """What `build` did: `rebuilt` is False when an up-to-date index was loaded instead."""

    rebuilt: bool
    articles: int
    chunks: int
    seconds: float
    reason: str = ""
    # Rows (chunks, sentences, questions) encoded by the model, and rows whose vectors came from the previous index.
    encoded: int = 0
    reused: int = 0
    generation: int = 0


@dataclass(frozen=True)
class Passage:
    """The piece of one article that answers the question.

    `score` is the article's best cosine similarity in [-1, 1] (what ranking and confidence use); `section` is the
    `##` heading of the chosen piece (the title for the lead) and `anchor` that heading's id on the help page.
    """

    article_id: str
    title: str
    section: str
    url: str
    text: str
    score: float
    anchor: str = ""

    @property
    def section_url(self) -> str:
        """The help-page link to the section: `url#anchor`, or the article URL for the lead."""
        return section_url(self.url, self.anchor)


@dataclass(frozen=True)
class SearchResult:
    """Passages from distinct articles, best first; `confident` when the best reaches the minimum score."""

    query: str
    passages: list[Passage] = field(default_factory=list)
    confident: bool = False
    # Confident, but the runner-up article scores within the ambiguity margin: ask which one was meant.
    ambiguous: bool = False

    @property
    def best(self) -> Passage | None:
        """The top passage, if any."""
        return self.passages[0] if self.passages else None
