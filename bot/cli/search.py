"""``snapfit search IMAGE``, ``snapfit search --text WORDS`` and ``snapfit similar ID_OR_URL``: what the bot
would answer, from the shell.

All open the same ``BotServices`` and call the same ``SearchService`` as the bot. ``--json``
prints a list of objects (``rank, id, score, name, brand, brand_name, price, normal_price,
discount_percent, gender, sold_out, url, image_url, category``); ``price`` is what a shopper pays now
(after every discount), ``normal_price`` the list price, ``gender`` ``men``, ``women``, ``unisex`` or
null (Musinsa's own label when it is another one).

Filters (``bot.cli.filter_options``): ``--min-price``, ``--max-price``, ``--gender`` and
``--include-sold-out`` narrow every search as the bot's /filter does; sold-out products are hidden
unless asked for. A bad value is one line naming the option, exit 2.

Garments: ``search IMAGE --garments`` lists what the garment parser finds (``--json``: objects
with ``number, label, categories, box, area``; ``box`` is ``[left, top, right, bottom]`` in the
image file's pixels, ``area`` the share of the image); ``search IMAGE --garment LABEL`` searches
that garment's crop in its categories (``--category`` wins, as /category does in the bot). Both
load ``[garments] model`` even when ``[garments] enabled = false`` (that switch is the bot's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.cli import EXIT_FAILED, EXIT_USAGE, ConfigOption, JsonOption, app, fail, load
from bot.cli.filter_options import (
    GenderOption,
    MaxPriceOption,
    MinPriceOption,
    SoldOutOption,
    describe_filters,
    search_filters,
)

if TYPE_CHECKING:
    from rich.console import OverflowMethod

    from bot.search import SearchService
    from indexer.clothes_parser import Garment, GarmentParser
    from indexer.config import Settings
    from indexer.store import ScoredProduct, SearchFilters

T = TypeVar("T")

LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="Number of results.")]
# Musinsa's gender labels (listing ``displayGenderText``) in the words of ``--gender``.
GENDER_WORDS = {"남성": "men", "여성": "women", "공용": "unisex"}


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
        "gender": GENDER_WORDS.get(product.gender, product.gender) if product.gender else None,
        "sold_out": product.sold_out,
        "url": product.url,
        "image_url": product.image_url,
        "category": product.category,
    }


def _with_search(settings: Settings, work: Callable[[SearchService], Awaitable[T]]) -> T:
    """Open the services, run ``work`` on the search service, close; errors become one line.

    The index is checked first, once: an empty one is reported before any model loads, and a
    store that was never built is not created."""
    from bot.cli.indexing import never_built
    from bot.search import CatalogEmptyError, SearchError
    from bot.services import BotServices
    from indexer.embedding.errors import EncoderError
    from indexer.store import CatalogError

    if never_built(settings.store):
        raise fail(_describe(CatalogEmptyError("nothing is indexed yet")), EXIT_FAILED)

    async def go() -> T:
        services = await BotServices.open(settings, require_index=True)
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
    from bot.search import BadImageError, CatalogEmptyError, TextIndexPendingError

    if isinstance(error, CatalogEmptyError):
        return "nothing is indexed yet: build the index with `snapfit sync` first"
    if isinstance(error, TextIndexPendingError):
        return "this index was built before text search: `snapfit sync` adds it (no image is embedded again)"
    if isinstance(error, BadImageError):
        return f"not a usable image ({error.image_code}): {error}"
    return str(error)


def _emit(
    rows: list[dict[str, Any]],
    as_json: bool,
    *,
    title: str,
    columns: Sequence[str],
    cells: Iterable[Sequence[str]],
    empty: str,
    overflow: OverflowMethod = "fold",
    whole: Sequence[str] = (),
) -> None:
    """``rows`` as JSON, or ``cells`` as a table under ``columns`` (``empty`` on stderr when none).

    Columns named in ``whole`` are never folded or cut (a link must stay one clickable line)."""
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        if column in whole:
            table.add_column(column, overflow="ignore", no_wrap=True)
        else:
            table.add_column(column, overflow=overflow)
    for row in cells:
        table.add_row(*row)
    Console().print(table)
    if not rows:
        typer.echo(empty, err=True)


def _print(items: list[ScoredProduct], as_json: bool, title: str) -> None:
    rows = [product_json(rank, item) for rank, item in enumerate(items, start=1)]
    _emit(
        rows,
        as_json,
        title=title,
        columns=("#", "score", "id", "brand", "name", "price", "category", "url"),
        cells=(
            [
                str(row["rank"]),
                f"{row['score']:.3f}",
                str(row["id"]),
                row["brand_name"],
                row["name"],
                _price_cell(row),
                row["category"],
                row["url"],
            ]
            for row in rows
        ),
        empty="no products found",
        whole=("url",),
    )


def _price_cell(row: dict[str, Any]) -> str:
    price = f"{row['price']:,}"
    if row["normal_price"] > row["price"]:
        price += f" (-{row['discount_percent']}%)"
    if row["sold_out"]:
        price += " sold out"
    return price


def _titled(title: str, filters: SearchFilters) -> str:
    """The table title, with the filters in force when they are not the defaults."""
    described = describe_filters(filters)
    return f"{title} ({described})" if described else title


def _search_image(
    settings: Settings, data: bytes, scope: str | tuple[str, ...] | None, filters: SearchFilters, limit: int
) -> list[ScoredProduct]:
    async def work(service: SearchService) -> list[ScoredProduct]:
        return (await service.search_image(data, category=scope, filters=filters, limit=limit)).items

    return _with_search(settings, work)


def checked_words(text: str) -> str:
    """The words of ``--text`` as the bot checks them; blank or too long exits 2 before anything is opened."""
    from bot.search import EmptyTextError, TextTooLongError, check_words

    try:
        return check_words(text)
    except (EmptyTextError, TextTooLongError) as exc:
        raise fail(f"--text: {exc}", EXIT_USAGE) from None


def _search_text(
    settings: Settings, words: str, scope: str | None, filters: SearchFilters, limit: int
) -> list[ScoredProduct]:
    """Words through the text search. Words with nothing to search for (only emoji or symbols: the
    analyser says so, after the index check) exit 2; products with every word in their name come first."""
    from bot.search import EmptyTextError, TextTooLongError

    async def work(service: SearchService) -> list[ScoredProduct]:
        try:
            result = await service.search_text(words, category=scope, filters=filters, limit=limit)
        except (EmptyTextError, TextTooLongError) as exc:
            raise fail(f"--text: {exc}", EXIT_USAGE) from None
        return result.items

    return _with_search(settings, work)


@app.command("search")
def search(
    image: Annotated[
        Path | None,
        typer.Argument(help="Photo to search with (JPEG, PNG, WebP, ...); or --text.", show_default=False),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            "--text",
            "-t",
            metavar="WORDS",
            help="Search product names and brands by these words instead of a photo (Korean or English).",
            show_default=False,
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category", help="Only this category: a code (001), a name (tops, 상의, hoodie) or 'all'."
        ),
    ] = None,
    limit: LimitOption = 10,
    garments: Annotated[
        bool, typer.Option("--garments", help="List the garments the garment parser finds in the photo.")
    ] = False,
    garment: Annotated[
        str | None,
        typer.Option("--garment", help="Search only this garment's crop (a label from --garments: pants)."),
    ] = None,
    min_price: MinPriceOption = None,
    max_price: MaxPriceOption = None,
    gender: GenderOption = None,
    include_sold_out: SoldOutOption = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show the products the bot would answer for a photo (or one garment in it), or for words.

    Give a photo (snapfit search photo.jpg) or words (snapfit search --text "검정 와이드 슬랙스"), not
    both. Products whose names hold every word rank first. Sold-out products are hidden unless
    --include-sold-out; --min-price, --max-price and --gender narrow the results as the bot's
    /filter does: snapfit search photo.jpg --max-price 50000 --gender women --json
    """
    from bot.handlers.category import parse_category
    from indexer.categories import UnknownCategoryError

    settings = load(config)
    if image is None and text is None:
        raise fail('give a photo to search with (snapfit search IMAGE) or words (--text "WORDS")', EXIT_USAGE)
    if image is not None and text is not None:
        raise fail("give either a photo or --text, not both", EXIT_USAGE)
    if text is not None and (garments or garment is not None):
        raise fail("--garments and --garment look at a photo: they do not go with --text", EXIT_USAGE)
    if garments and garment is not None:
        raise fail("use either --garments (list them) or --garment LABEL (search one)", EXIT_USAGE)
    try:
        code = parse_category(category) if category else None
    except UnknownCategoryError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    filters = search_filters(min_price, max_price, gender, include_sold_out)
    if text is not None:
        words = checked_words(text)
        items = _search_text(settings, words, code, filters, limit)
        _print(items, json_output, _titled(f"Products matching {words!r}", filters))
        return
    assert image is not None  # one of the two, checked above
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {image}: {exc.strerror or exc}", EXIT_FAILED) from None
    if garments:
        _print_garments(_find_garments(settings, data)[1], json_output, image.name)
        return
    if garment is not None:
        items, title = _search_garment(settings, data, garment, code, filters, limit, image.name)
        _print(items, json_output, _titled(title, filters))
        return
    items = _search_image(settings, data, code, filters, limit)
    _print(items, json_output, _titled(f"Products like {image.name}", filters))


def _find_garments(settings: Settings, data: bytes) -> tuple[GarmentParser, list[Garment]]:
    """Decode the photo at the file's own resolution, load the parser, parse; one line on any failure."""
    from indexer.clothes_parser import GarmentLoadError, GarmentParser
    from indexer.images import ImageDecoder, ImageError

    try:  # a file that is no image fails before seconds of model loading
        decoded = ImageDecoder(settings.images, None).decode(data)
    except ImageError as exc:
        raise fail(f"not a usable image ({exc.code}): {exc.message}", EXIT_FAILED) from None
    try:
        parser = GarmentParser.from_settings(settings.garments, settings.model)
    except GarmentLoadError as exc:
        raise fail(str(exc), EXIT_FAILED) from None
    return parser, parser.parse(decoded)


def _search_garment(
    settings: Settings,
    data: bytes,
    label: str,
    code: str | None,
    filters: SearchFilters,
    limit: int,
    name: str,
) -> tuple[list[ScoredProduct], str]:
    """Search the crop of garment ``label``; the index is checked before the garment parser loads."""
    from bot.garment_finder import crop_jpeg
    from indexer.config import garment_label

    wanted = garment_label(label)

    async def work(service: SearchService) -> list[ScoredProduct]:
        parser, found = _find_garments(settings, data)
        if wanted not in parser.plan.garments:
            known = ", ".join(parser.plan.garments)
            raise fail(f"{label!r} is not one of the garment parser's garments ({known})", EXIT_USAGE)
        garment = next((g for g in found if g.label == wanted), None)
        if garment is None:
            seen = ", ".join(g.label for g in found) or "none"
            raise fail(f"no {wanted} found in {name} (garments found: {seen})", EXIT_FAILED)
        scope = code or garment.categories
        crop = crop_jpeg(garment.crop)
        return (await service.search_image(crop, category=scope, filters=filters, limit=limit)).items

    return _with_search(settings, work), f"Products like the {wanted} in {name}"


def _print_garments(found: list[Garment], as_json: bool, name: str) -> None:
    rows = [{"number": number, **garment.to_json()} for number, garment in enumerate(found, start=1)]
    _emit(
        rows,
        as_json,
        title=f"Garments in {name}",
        columns=("#", "label", "categories", "box (left, top, right, bottom)", "area"),
        cells=(
            [
                str(number),
                garment.label,
                ", ".join(garment.categories),
                ", ".join(str(value) for value in garment.box),
                f"{garment.area:.1%}",
            ]
            for number, garment in enumerate(found, start=1)
        ),
        empty="no garments found: without --garments, snapfit search uses the whole photo",
        overflow="ellipsis",
    )


@app.command("similar")
def similar(
    product: Annotated[
        str,
        typer.Argument(
            help="A Musinsa product number or link (www.musinsa.com/products/…).", show_default=False
        ),
    ],
    limit: LimitOption = 10,
    min_price: MinPriceOption = None,
    max_price: MaxPriceOption = None,
    gender: GenderOption = None,
    include_sold_out: SoldOutOption = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show the products the bot's /similar would answer for a Musinsa product.

    The same filters as snapfit search narrow the results (sold-out products hidden unless
    --include-sold-out). Example: snapfit similar 4276948 --max-price 80000 --json
    """
    settings = load(config)
    filters = search_filters(min_price, max_price, gender, include_sold_out)

    async def work(service: SearchService) -> tuple[str, list[ScoredProduct]]:
        result = await service.similar(product, filters=filters, limit=limit)
        where = "indexed" if result.indexed else "not indexed: fetched from Musinsa"
        source = result.source
        return f"Similar to {source.id} {source.brand_name} {source.name} ({where})", result.items

    title, items = _with_search(settings, work)
    _print(items, json_output, _titled(title, filters))
