"""``snapfit sync``: crawl Musinsa and bring the index up to date (incremental, resumable).

Exit status: 0 when the run finished; 1 when it ended early (robots.txt refusal, Musinsa
blocking the crawl, the index or the model unavailable, a store error), with the reason on
stderr; 2 for a configuration or argument mistake; 130 when interrupted (what was stored is
kept and the next sync goes on from there).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import ConfigOption, JsonOption, app, fail, load

if TYPE_CHECKING:
    from indexer.sync import SyncSummary

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@app.command("sync")
def sync(
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="Category to sync: a code (001, 001004) or a name (tops, 상의, hoodie). Repeatable. "
            "(default: musinsa.categories)",
            show_default=False,
        ),
    ] = None,
    max_pages: Annotated[
        int | None,
        typer.Option(
            "--max-pages", min=0, help="Pages per category at most; 0 = all (default: musinsa.max_pages)"
        ),
    ] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Crawl Musinsa, embed new and changed product images, update prices, retire gone products."""
    from rich.console import Console

    from bot.cli.indexing import load_encoder, open_store
    from bot.cli.sync_view import SyncView, print_summary
    from indexer.categories import UnknownCategoryError, walk_plan
    from indexer.sync import run_sync

    settings = load(config)
    try:
        codes = walk_plan(
            category or None,
            configured=settings.musinsa.categories,
            expand_subcategories=settings.musinsa.expand_subcategories,
        )
    except UnknownCategoryError as exc:
        raise fail(str(exc), EXIT_USAGE) from None

    async def run() -> SyncSummary:
        catalog = await open_store(settings.store)
        try:
            encoder = load_encoder(settings.model)
            with SyncView(Console(stderr=True)) as view:
                return await run_sync(
                    settings,
                    catalog=catalog,
                    encoder=encoder,
                    categories=codes,
                    max_pages=max_pages,
                    progress=view,
                )
        finally:
            await catalog.close()

    try:
        summary = asyncio.run(run())
    except KeyboardInterrupt:
        raise fail(
            "interrupted: what was stored is kept, and the next sync goes on from there", EXIT_INTERRUPTED
        ) from None
    if json_output:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        print_summary(Console(), summary)
    if summary.error is not None:
        raise fail(summary.error, EXIT_FAILED)
