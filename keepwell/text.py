"""Words of a customer's message, as the conversation logic compares them: topic words without the small words
around them, and apostrophes as phones type them."""

import re

_WORD = re.compile(r"[a-z0-9']+")
# Words that carry no topic: two questions are the same question when their other words are.
_STOPWORDS = frozenset(
    "a an the i me my we our us you your it its is are was were be been do does did doing to of in on for with at "
    "by from and or but so if then this that these those there here how what why when where which who can could "
    "would should will shall may might must am have has had not no yes ok okay please pls plz just still again "
    "really very any some get got want need like know tell about into out up it's that's i'm i've we're".split()
)


def plain_quotes(text: str) -> str:
    """Curly apostrophes made straight: phones type "doesn’t"."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def content_words(text: str) -> frozenset[str]:
    """The topic words of a message, lower-cased: no small words, no single letters."""
    words = _WORD.findall(plain_quotes(text).lower())
    return frozenset(word for word in words if word not in _STOPWORDS and len(word) > 1)
