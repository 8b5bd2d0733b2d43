"""Pagination arithmetic shared by the pages the console lists (audit log, inbox, flagged queue)."""

import math


class Paged:
    """For a page dataclass with `total` (matches on every page), `page` (1-based) and `page_size` fields."""

    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
