"""Where a search looks: the category (or a garment's categories) and the filters, as one value.

A search takes the user's saved scope (``user_scope``), possibly refined for that one search (a
caption, a garment's categories); "More" pages keep the scope the search was made with.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.context import BotContext
from bot.preferences import user_category, user_filters
from indexer.store import DEFAULT_FILTERS, SearchFilters


@dataclass(frozen=True)
class SearchScope:
    """``category``: None (all), one code, or several (a garment's); ``understood``: the parts of a
    caption applied to this search only, as the user wrote them (the results header repeats them)."""

    category: str | tuple[str, ...] | None = None
    filters: SearchFilters = DEFAULT_FILTERS
    understood: tuple[str, ...] = ()

    def replace(self, **changes: object) -> SearchScope:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def user_scope(context: BotContext) -> SearchScope:
    """The user's saved category and filters."""
    return SearchScope(user_category(context), user_filters(context))
