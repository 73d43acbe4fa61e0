"""``snapfit crawl``: crawl Musinsa categories into a dated JSONL snapshot, with live progress.

Exit status: 0 when every category finished (complete, or cut off by --max-pages as asked);
1 when a category failed, robots.txt refused, or nothing was crawled; 2 for a configuration
or argument mistake; 130 when interrupted (no snapshot is left behind).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from bot.cli import EXIT_FAILED, EXIT_INTERRUPTED, ConfigOption, app, fail, load
from bot.cli.walk_options import CrawlCategoryOption, MaxPagesOption, categories_to_walk


@app.command("crawl")
def crawl(
    category: CrawlCategoryOption = None,
    max_pages: MaxPagesOption = None,
    config: ConfigOption = None,
) -> None:
    """Crawl Musinsa's category listings and write a JSONL snapshot under {data.dir}/snapshots/."""
    from rich.console import Console

    from bot.cli.crawl_view import CrawlView, print_summary
    from indexer.musinsa import (
        CatalogCrawl,
        MusinsaClient,
        RobotsDisallowedError,
        crawl_catalog,
        snapshot_dir,
        write_snapshot,
    )

    settings = load(config)
    codes = categories_to_walk(category, settings.musinsa)
    pages = settings.musinsa.max_pages if max_pages is None else max_pages

    async def run_crawl() -> CatalogCrawl:
        async with MusinsaClient(settings.musinsa, images=settings.images) as client:
            return await crawl_catalog(client, codes, max_pages=pages, on_page=view.update)

    view = CrawlView(codes, Console(stderr=True))
    try:
        with view:
            result = asyncio.run(run_crawl())
    except KeyboardInterrupt:
        raise fail("interrupted; no snapshot written", EXIT_INTERRUPTED) from None
    except RobotsDisallowedError as exc:
        raise fail(str(exc), EXIT_FAILED) from None

    products = result.products
    path: Path | None = None
    if products:
        try:
            path = write_snapshot(products, snapshot_dir(settings.data.dir))
        except KeyboardInterrupt:
            raise fail("interrupted; no snapshot written", EXIT_INTERRUPTED) from None
        except OSError as exc:
            raise fail(
                f"cannot write the snapshot in {snapshot_dir(settings.data.dir)}: {exc}", EXIT_FAILED
            ) from None
    print_summary(Console(), result, path)
    if path is None:
        raise fail("nothing was crawled; no snapshot written", EXIT_FAILED)
    if result.failed:
        raise typer.Exit(EXIT_FAILED)
