"""``snapfit sync``: crawl Musinsa and bring the index up to date (incremental, resumable).

Exit status: 0 when the run finished; 3 when it finished but a fault cut the crawl of some
categories short (``complete: false``; their absent products were kept); 1 when it ended early
(robots.txt refusal, Musinsa blocking the crawl, the index or the model unavailable, a store
error), with the reason on stderr; 2 for a configuration or argument mistake; 130 when
interrupted (what was stored is kept and the next sync goes on from there).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import typer

from bot.cli import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_INTERRUPTED, ConfigOption, JsonOption, app, fail, load
from bot.cli.walk_options import MaxPagesOption, SyncCategoryOption, categories_to_walk

if TYPE_CHECKING:
    from indexer.sync import SyncSummary


@app.command("sync")
def sync(
    category: SyncCategoryOption = None,
    max_pages: MaxPagesOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Crawl Musinsa, embed new and changed product images, update prices, retire gone products."""
    from rich.console import Console

    from bot.cli.indexing import load_encoder, open_store
    from bot.cli.sync_view import SyncView, print_summary
    from indexer.sync import run_sync

    settings = load(config)
    codes = categories_to_walk(category, settings.musinsa)

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
    if not summary.complete:
        raise fail(
            f"the crawl of {', '.join(summary.incomplete_categories)} did not complete (see the notes); "
            "the products it missed were kept, and the next sync tries again",
            EXIT_INCOMPLETE,
        )
