"""The ``--category`` and ``--max-pages`` options of ``snapfit crawl`` and ``snapfit sync``.

Both commands walk Musinsa's category listings the same way; this module holds their shared
options and turns ``--category`` into the listing codes to walk (exit 2 on an unknown name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import EXIT_USAGE, fail

if TYPE_CHECKING:
    from indexer.config import MusinsaSettings


def _category_option(verb: str) -> Any:
    return typer.Option(
        "--category",
        help=f"Category to {verb}: a code (001, 001004) or a name (tops, 상의, hoodie). Repeatable. "
        "(default: musinsa.categories)",
        show_default=False,
    )


CrawlCategoryOption = Annotated[list[str] | None, _category_option("crawl")]
SyncCategoryOption = Annotated[list[str] | None, _category_option("sync")]
MaxPagesOption = Annotated[
    int | None,
    typer.Option(
        "--max-pages", min=0, help="Pages per category at most; 0 = all (default: musinsa.max_pages)"
    ),
]


def categories_to_walk(requested: list[str] | None, musinsa: MusinsaSettings) -> list[str]:
    """The listing codes to walk: ``--category`` values, else the configured ones; exit 2 if unknown."""
    from indexer.categories import UnknownCategoryError, walk_plan

    try:
        return walk_plan(
            requested or None,
            configured=musinsa.categories,
            expand_subcategories=musinsa.expand_subcategories,
        )
    except UnknownCategoryError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
