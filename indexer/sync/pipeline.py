"""One sync run: crawl → text upgrade → diff → payloads → embed/upsert → retire → switch.

``run_sync`` is the one entry point (the CLI, the nightly schedule and the bot call it). Its
steps are ordered so that a run cut short anywhere leaves a consistent index that the next run
completes: a refused or blocked crawl touches nothing, nothing stored is embedded again,
removals follow only complete crawls, and a rebuild goes live only when complete. An index version
made before text search gets its text vectors first, in place, from the stored names (the
"text upgrade": ``Catalog.add_text_index``; no image is embedded again). The summary is saved to
``{data.dir}/state/last_sync.json``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from indexer.categories import walk_plan
from indexer.config import Settings, SyncSettings
from indexer.embedding.errors import EncoderError
from indexer.images import ImageDecoder
from indexer.musinsa.client import MusinsaClient
from indexer.musinsa.client import image_client as make_image_client
from indexer.musinsa.crawl import CatalogCrawl, crawl_catalog
from indexer.musinsa.errors import BlockedError, MusinsaError, RobotsDisallowedError
from indexer.product import Product
from indexer.store.catalog import Catalog, CatalogRebuild, ProductIndex
from indexer.store.errors import CatalogError
from indexer.store.versions import same_model
from indexer.sync.changes import PriceChange, PriceChanges, save_changes, sync_id_of
from indexer.sync.diff import (
    StoredRef,
    SyncPlan,
    decide_removals,
    plan_changes,
    removal_safety,
)
from indexer.sync.embedder import ImageEncoder, ImagePipeline
from indexer.sync.progress import PlanCounts, SyncProgress
from indexer.sync.readiness import explain_empty_index, sync_in_progress
from indexer.sync.state import MissCounters
from indexer.sync.summary import CategoryReport, SyncSummary, save_last_summary

log = logging.getLogger(__name__)

# Store calls that carry no vectors go in chunks of this many products.
WRITE_CHUNK = 256
# Errors that end a run with a clear message (anything else is logged with its traceback too).
EXPECTED_ERRORS = (CatalogError, EncoderError, MusinsaError, OSError)


def needs_rebuild(catalog: Catalog, encoder: ImageEncoder) -> bool:
    """True when the next sync writes a new index version (no index yet, or another model's)."""
    version = catalog.version
    return version is None or not same_model(version.model_id, encoder.model_id)


async def run_sync(
    settings: Settings,
    *,
    catalog: Catalog,
    encoder: ImageEncoder,
    categories: Sequence[str] | None = None,
    max_pages: int | None = None,
    progress: SyncProgress | None = None,
    musinsa_client: MusinsaClient | None = None,
    image_client: MusinsaClient | None = None,
) -> SyncSummary:
    """Bring the index in line with Musinsa's listings; never raises for an operational failure.

    ``categories`` (walked exactly as given) defaults to ``[musinsa] categories``, expanded to their
    sub-categories when ``expand_subcategories`` (``walk_plan``), and ``max_pages`` to ``[musinsa]
    max_pages``. Clients passed in must be open (``async with``) and stay the caller's;
    otherwise the run opens its own. The result's ``error`` says why a run ended early.
    Cancellation propagates (after the summary is saved and a rebuild is left resumable).
    """
    codes = walk_plan(
        categories,
        configured=settings.musinsa.categories,
        expand_subcategories=settings.musinsa.expand_subcategories,
    )
    if not codes:
        raise ValueError("no category to sync")
    pages = settings.musinsa.max_pages if max_pages is None else max_pages
    if pages < 0:
        raise ValueError(f"max_pages must be 0 (no limit) or more, got {pages}")
    run = _SyncRun(settings, catalog, encoder, progress or SyncProgress())
    log.info(
        "sync started: categories %s, max_pages %s, model %s",
        ",".join(codes),
        pages or "all",
        encoder.model_id,
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(sync_in_progress(settings.data.dir))
            if musinsa_client is None:
                musinsa_client = await stack.enter_async_context(
                    MusinsaClient(settings.musinsa, images=settings.images)
                )
            if image_client is None:
                image_client = await stack.enter_async_context(
                    make_image_client(settings.musinsa, settings.images)
                )
            clients = {"listing": musinsa_client, "images": image_client}
            counted_from = {name: asdict(client.stats) for name, client in clients.items()}
            try:
                await run.execute(codes, pages, musinsa_client, image_client)
            finally:
                run.summary.http = _requests_since(clients, counted_from)
    except EXPECTED_ERRORS as exc:
        run.summary.error = str(exc)
        log.error("sync stopped: %s", exc)
    except Exception as exc:  # a bug: keep the index, say so, keep the traceback in the log
        run.summary.error = f"unexpected {type(exc).__name__}: {exc}"
        log.exception("sync stopped by an unexpected error")
    except BaseException:
        run.summary.error = "interrupted"
        run.finish()
        raise
    run.finish()
    return run.summary


def _requests_since(
    clients: dict[str, MusinsaClient], counted_from: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """What each client sent during this run (clients passed in may have been used before)."""
    return {
        name: {key: value - counted_from[name].get(key, 0) for key, value in asdict(client.stats).items()}
        for name, client in clients.items()
    }


class _SyncRun:
    """The state of one run; ``execute`` is the sequence described in the module docstring."""

    def __init__(
        self, settings: Settings, catalog: Catalog, encoder: ImageEncoder, progress: SyncProgress
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.encoder = encoder
        self.progress = progress
        self.summary = SyncSummary(started_at=datetime.now(UTC), model_id=encoder.model_id)
        self.rebuild: CatalogRebuild | None = None
        self.wrote = False
        self.price_candidates: dict[int, PriceChange] = {}
        self.price_changes: list[PriceChange] = []  # stored ones, for alerts

    def finish(self) -> None:
        if self.summary.error is not None:
            for report in self.summary.categories:
                if not report.removals_checked and report.removals_skipped is None:
                    report.removals_skipped = "the run ended early"
        version = self.catalog.version
        self.summary.version = version.name if version is not None else None
        self.summary.finish()
        if self.price_changes:  # before the summary: a bot that sees the summary finds the changes
            save_changes(
                self.settings.data.dir,
                PriceChanges(
                    sync_id=sync_id_of(self.summary.started_at),
                    finished_at=self.summary.finished_at,
                    ok=self.summary.ok,
                    changes=sorted(self.price_changes, key=lambda change: change.product_id),
                ),
            )
        save_last_summary(self.settings.data.dir, self.summary)
        level = logging.INFO if self.summary.complete else logging.WARNING
        counts = self.summary.to_json()
        # The counts as fields of their own in JSON logs ([logging] json_format).
        fields = {key: counts[key] for key in ("crawled", "added", "updated", "removed", "failed", "seconds")}
        verdict = {"ok": self.summary.ok, "complete": self.summary.complete}
        log.log(level, "%s", self.summary.headline(), extra={"sync": {**fields, **verdict}})
        for note in self.summary.notes():
            log.log(level, "  %s", note)
        if version is None:  # the bot can search nothing: say why and what to do
            log.warning("%s", explain_empty_index(running=False, last=self.summary).line())

    async def execute(
        self, codes: list[str], pages: int, client: MusinsaClient, images: MusinsaClient
    ) -> None:
        crawl = await self._crawl(codes, pages, client)
        if crawl is None:
            return
        try:
            await self._index(crawl, images)
        finally:
            if self.rebuild is not None and not self.summary.committed:
                with contextlib.suppress(CatalogError):
                    await self.rebuild.close()  # kept on disk: the next run resumes it

    async def _crawl(self, codes: list[str], pages: int, client: MusinsaClient) -> CatalogCrawl | None:
        started = time.perf_counter()
        try:
            crawl = await crawl_catalog(client, codes, max_pages=pages, on_page=self.progress.crawl_page)
        except RobotsDisallowedError as exc:
            self.summary.error = f"{exc}; the index was not changed"
            return None
        finally:
            self.summary.crawl_seconds = round(time.perf_counter() - started, 3)
        self.progress.crawl_done(crawl)
        self.summary.crawled = len(crawl.products)
        self.summary.categories = [
            CategoryReport(
                code=category.code,
                crawled=len(category.products),
                pages=category.pages,
                complete=category.complete,
                reason=category.reason,
                failed=category.failed,
            )
            for category in crawl.categories
        ]
        blocked = [category for category in crawl.categories if isinstance(category.error, BlockedError)]
        if blocked:
            self.summary.error = (
                f"Musinsa blocked the crawl of {', '.join(c.code for c in blocked)} "
                f"({blocked[0].reason}); stopped without changing the index"
            )
            for report in self.summary.categories:
                report.removals_skipped = "the run stopped after the crawl"
            return None
        return crawl

    async def _index(self, crawl: CatalogCrawl, images: MusinsaClient) -> None:
        summary = self.summary
        target: ProductIndex = self.catalog
        live_count = await self.catalog.count()
        if needs_rebuild(self.catalog, self.encoder):
            if not crawl.products:
                summary.error = "the crawl found no products; no index was built"
                return
            summary.rebuild = True
            self.rebuild = await self.catalog.begin_rebuild(
                self.encoder.model_id, self.settings.model.name, self.encoder.dimension
            )
            target = self.rebuild
            self.progress.step(
                f"{'resuming' if self.rebuild.resumed else 'building'} index version "
                f"{self.rebuild.version.name} for model {self.encoder.model_id}"
            )

        await self._add_text_index(target)
        stored = {
            ref.id: StoredRef(ref.image_url, ref.fingerprint, ref.effective_price, ref.sold_out)
            async for ref in target.refs()
        }
        indexed = {report.code: await target.count(report.code) for report in summary.categories}
        for report in summary.categories:
            report.indexed = indexed[report.code]
        plan = plan_changes(crawl.products, stored)
        summary.unchanged = plan.unchanged
        self.price_candidates = plan.price_changes
        self.progress.planned(
            PlanCounts(
                crawled=summary.crawled,
                to_embed=len(plan.to_embed),
                to_update=len(plan.metadata_changed),
                unchanged=plan.unchanged,
                rebuild=summary.rebuild,
            )
        )
        await self._update_payloads(target, plan.metadata_changed)
        await self._embed(target, plan, images)
        if summary.error is None:  # a run that ended early removes nothing
            await self._retire(target, crawl, stored)
        if self.rebuild is not None:
            await self._finish_rebuild(crawl, live_count)
        elif self.wrote:
            self.progress.step("optimizing the index")
            await self.catalog.optimize()
        if self.rebuild is None:
            await self.catalog.flush()

    async def _add_text_index(self, target: ProductIndex) -> None:
        """Give a version made before text search its text vectors, before anything else is written."""
        version = self.rebuild.version if self.rebuild is not None else self.catalog.version
        if version is None or version.text_index:
            return
        self.progress.step(f"adding text search to index version {version.name} (no image is embedded again)")
        added = await target.add_text_index()
        self.summary.text_indexed = added
        self.wrote = self.wrote or added > 0

    async def _update_payloads(self, target: ProductIndex, products: list[Product]) -> None:
        for start in range(0, len(products), WRITE_CHUNK):
            chunk = products[start : start + WRITE_CHUNK]
            result = await target.update_payload(chunk)
            self.wrote = True
            missing = set(result.missing)
            self._stored_prices(product.id for product in chunk if product.id not in missing)
            self.summary.payload_updates += result.updated
            self.summary.updated += result.updated
            if result.missing:  # removed by someone else since the diff: the next run adds them back
                log.info("%d products vanished from the index during the sync", len(result.missing))
            self.progress.payloads_updated(result.updated)

    async def _embed(self, target: ProductIndex, plan: SyncPlan, images: MusinsaClient) -> None:
        if not plan.to_embed:
            return
        pipeline = ImagePipeline(
            client=images,
            decoder=ImageDecoder(self.settings.images, self.encoder.image_size),
            encoder=self.encoder,
            target=target,
            chunk_size=self.settings.sync.embed_batch_size,
            concurrency=self.settings.images.download_concurrency,
            progress=self.progress,
            on_failure=self.summary.record_failure,
        )
        new_ids = {product.id for product in plan.new}
        try:
            result = await pipeline.run(plan.to_embed)
        finally:
            done = pipeline.result
            self.wrote = self.wrote or bool(done.stored)
            self._stored_prices(done.stored)
            added = sum(1 for pid in done.stored if pid in new_ids)
            self.summary.added += added
            self.summary.reembedded += len(done.stored) - added
            self.summary.updated += len(done.stored) - added
            self.summary.embedded += done.embedded
            self.summary.embed_seconds = round(self.summary.embed_seconds + done.embed_seconds, 3)
        if result.stopped:
            self.summary.error = result.stopped

    def _stored_prices(self, ids: Iterable[int]) -> None:
        """Keep the price changes of these stored products (their new values are in the index now)."""
        for pid in ids:
            change = self.price_candidates.pop(pid, None)
            if change is not None:
                self.price_changes.append(change)

    async def _retire(self, target: ProductIndex, crawl: CatalogCrawl, stored: dict[int, StoredRef]) -> None:
        sync = self.settings.sync
        safe_codes: list[str] = []
        for category, report in zip(crawl.categories, self.summary.categories, strict=True):
            reason = removal_safety(category, report.indexed, sync.min_crawl_ratio)
            report.removals_checked = reason is None
            report.removals_skipped = reason
            if reason is None:
                safe_codes.append(category.code)
            else:
                log.info("category %s: nothing removed: %s", category.code, reason)
        crawled = {product.id for product in crawl.products}
        absent_ids = sorted(set(stored) - crawled)
        absent: dict[int, str | None] = dict.fromkeys(absent_ids)
        if safe_codes and absent_ids:
            for start in range(0, len(absent_ids), WRITE_CHUNK):
                for item in await target.get(absent_ids[start : start + WRITE_CHUNK]):
                    absent[item.product.id] = item.product.category
        counters = MissCounters.load(self.settings.data.dir)
        decision = decide_removals(
            absent,
            safe_codes=safe_codes,
            previous=counters.counts,
            remove_after_missed=sync.remove_after_missed,
        )
        counters.save(decision.counts)  # before deleting: a crash in between only repeats the count
        self.summary.missing = decision.missing
        if decision.remove:
            self.progress.step(f"removing {len(decision.remove)} products gone from Musinsa")
            for start in range(0, len(decision.remove), WRITE_CHUNK):
                await target.delete(decision.remove[start : start + WRITE_CHUNK])
            self.wrote = True
            self.summary.removed = len(decision.remove)
            log.info(
                "removed %d products missing from %d complete crawls",
                len(decision.remove),
                sync.remove_after_missed,
            )

    async def _finish_rebuild(self, crawl: CatalogCrawl, live_count: int) -> None:
        assert self.rebuild is not None
        built = await self.rebuild.count()
        reason = rebuild_verdict(
            self.summary,
            crawl,
            built=built,
            live=self.catalog.version is not None,
            live_count=live_count,
            settings=self.settings.sync,
        )
        if reason is not None:
            self.summary.rebuild_pending = reason
            log.warning("index version %s kept for the next sync: %s", self.rebuild.version.name, reason)
            return
        self.progress.step(f"building the search index of {self.rebuild.version.name} and switching to it")
        await self.rebuild.commit()
        self.summary.committed = True


def rebuild_verdict(
    summary: SyncSummary,
    crawl: CatalogCrawl,
    *,
    built: int,
    live: bool,
    live_count: int,
    settings: SyncSettings,
) -> str | None:
    """None when a new version may replace the live index, else why it waits for the next run.

    The first index (nothing live) is switched to as soon as it holds anything and the run did
    not end early: something to search beats nothing. A replacement for a live index (a model
    change) must be at least as trustworthy as what it replaces: every category crawled to the
    end, few image failures, and not much smaller than the live index.
    """
    if summary.error is not None:
        return "the run ended early"
    if built == 0:
        return "it holds no products yet"
    if not live:
        return None
    incomplete = [category.code for category in crawl.categories if not category.complete]
    if incomplete:
        return f"the crawl of {', '.join(incomplete)} did not complete"
    if summary.failed > settings.rebuild_max_failed_ratio * max(summary.crawled, 1):
        return (
            f"{summary.failed} of {summary.crawled} images failed "
            f"(more than rebuild_max_failed_ratio = {settings.rebuild_max_failed_ratio:g})"
        )
    if built < settings.min_crawl_ratio * live_count:
        return (
            f"it holds {built} products against {live_count} in the live index "
            f"(below min_crawl_ratio = {settings.min_crawl_ratio:g})"
        )
    return None
