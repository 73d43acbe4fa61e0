"""``snapfit search IMAGE`` and ``snapfit similar ID_OR_URL``: what the bot would answer, from the shell.

Both open the same ``BotServices`` and call the same ``SearchService`` as the bot. ``--json``
prints a list of objects (``rank, id, score, name, brand, brand_name, price, normal_price,
discount_percent, sold_out, url, image_url, category``); ``price`` is what a shopper pays now
(after every discount), ``normal_price`` the list price.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.cli import ConfigOption, JsonOption, app, fail, load

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.search import SearchService
    from indexer.store import ScoredProduct

EXIT_FAILED = 1
EXIT_USAGE = 2
T = TypeVar("T")

LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="Number of results.")]


def product_json(rank: int, scored: ScoredProduct) -> dict[str, Any]:
    product = scored.product
    return {
        "rank": rank,
        "id": product.id,
        "score": round(float(scored.score), 6),
        "name": product.name,
        "brand": product.brand,
        "brand_name": product.brand_name,
        "price": product.effective_price,
        "normal_price": product.normal_price,
        "discount_percent": product.discount_percent,
        "sold_out": product.sold_out,
        "url": product.url,
        "image_url": product.image_url,
        "category": product.category,
    }


def _with_search(settings: Settings, work: Callable[[SearchService], Awaitable[T]]) -> T:
    """Open the services, run ``work`` on the search service, close; errors become one line."""
    from bot.search import SearchError
    from bot.services import BotServices
    from indexer.embedding.errors import EncoderError
    from indexer.store import CatalogError

    async def go() -> T:
        services = await BotServices.open(settings)
        try:
            return await work(services.search)
        finally:
            await services.close()

    try:
        return asyncio.run(go())
    except SearchError as exc:
        raise fail(_describe(exc), EXIT_FAILED) from None
    except (EncoderError, CatalogError) as exc:
        raise fail(str(exc), EXIT_FAILED) from None


def _describe(error: Exception) -> str:
    from bot.search import BadImageError, CatalogEmptyError

    if isinstance(error, CatalogEmptyError):
        return "nothing is indexed yet: build the index with `snapfit sync` first"
    if isinstance(error, BadImageError):
        return f"not a usable image ({error.image_code}): {error}"
    return str(error)


def _print(items: list[ScoredProduct], as_json: bool, title: str) -> None:
    rows = [product_json(rank, item) for rank, item in enumerate(items, start=1)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("#", "score", "id", "brand", "name", "price", "category", "url"):
        table.add_column(column, overflow="fold")
    for row in rows:
        price = f"{row['price']:,}"
        if row["normal_price"] > row["price"]:
            price += f" (-{row['discount_percent']}%)"
        if row["sold_out"]:
            price += " sold out"
        table.add_row(
            str(row["rank"]),
            f"{row['score']:.3f}",
            str(row["id"]),
            row["brand_name"],
            row["name"],
            price,
            row["category"],
            row["url"],
        )
    Console().print(table)
    if not rows:
        typer.echo("no products found", err=True)


@app.command("search")
def search(
    image: Annotated[
        Path, typer.Argument(help="Photo to search with (JPEG, PNG, WebP, ...).", show_default=False)
    ],
    category: Annotated[
        str | None,
        typer.Option(
            "--category", help="Only this category: a code (001), a name (tops, 상의, hoodie) or 'all'."
        ),
    ] = None,
    limit: LimitOption = 10,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show the products the bot would answer for a photo."""
    from bot.handlers.category import parse_category
    from indexer.musinsa import UnknownCategory

    settings = load(config)
    try:
        code = parse_category(category) if category else None
    except UnknownCategory as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {image}: {exc.strerror or exc}", EXIT_FAILED) from None

    async def work(service: SearchService) -> list[ScoredProduct]:
        return (await service.search_image(data, category=code, limit=limit)).items

    items = _with_search(settings, work)
    _print(items, json_output, f"Products like {image.name}")


@app.command("similar")
def similar(
    product: Annotated[
        str,
        typer.Argument(
            help="A Musinsa product number or link (www.musinsa.com/products/…).", show_default=False
        ),
    ],
    limit: LimitOption = 10,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show the products the bot's /similar would answer for a Musinsa product."""
    settings = load(config)

    async def work(service: SearchService) -> tuple[str, list[ScoredProduct]]:
        result = await service.similar(product, limit=limit)
        where = "indexed" if result.indexed else "not indexed: fetched from Musinsa"
        source = result.source
        return f"Similar to {source.id} {source.brand_name} {source.name} ({where})", result.items

    title, items = _with_search(settings, work)
    _print(items, json_output, title)
