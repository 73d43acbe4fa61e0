"""``build_application(settings)``: the bot's one factory, used by ``snapfit run`` and the tests.

It wires the token and Bot API endpoints, Telegram's flood limits (``AIORateLimiter``), bounded
concurrent updates, HTML and the schedule's timezone as defaults, per-user settings in the user
store (``bot.userdata``: SQLite; a failing store degrades to in-memory settings), ``BotContext``
(handlers read ``context.services``) and the handlers. ``post_init`` starts ``[metrics]``
(``bot.search_metrics``), opens ``BotServices``, sets the command menus (``bot.menus``) and
schedules the nightly sync; ``post_shutdown`` stops them. Both run only inside ``run_polling`` or
``run_webhook``: code that drives the lifecycle itself (the tests) awaits ``app.post_init(app)``
and ``app.post_shutdown(app)``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
)

from bot.alerts import start_alerts
from bot.context import SERVICES_KEY, BotContext
from bot.handlers import register_handlers
from bot.menus import ADMIN_MENUS_KEY, AdminMenus, set_everyones_menus
from bot.nightly import start_nightly, sync_stats_section
from bot.search_metrics import MONITORING_KEY, BotMonitoring
from bot.services import BotServices
from bot.stats import index_stats_section, users_stats_section
from bot.userdata import UserDataPersistence, user_store
from bot.userdata.health import COMPONENT as USER_STORE_COMPONENT
from indexer.config import Settings
from indexer.logs import protect_secrets, quiet_request_urls

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 128
RATE_LIMIT_RETRIES = 3  # retries of a request Telegram answered with 429
PERSISTENCE_INTERVAL_SECONDS = 30  # a changed category is also written at once (see handlers.category)

AppHook = Callable[[Application], Awaitable[None]]  # type: ignore[type-arg]


class MissingTokenError(ValueError):
    """No bot token configured."""


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The configured bot, handlers registered; nothing is opened until it is initialised and started."""
    token = settings.telegram.token.strip()
    if not token:
        raise MissingTokenError(
            "no Telegram bot token: set TELEGRAM_BOT_TOKEN (or [telegram] token in the config file)"
        )
    # PTB logs its API URL (token included) at DEBUG, httpx every request URL at INFO.
    protect_secrets([token])
    quiet_request_urls()

    data_dir = settings.data.path
    data_dir.mkdir(parents=True, exist_ok=True)
    persistence = UserDataPersistence(data_dir, update_interval=PERSISTENCE_INTERVAL_SECONDS)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(MAX_CONCURRENT_UPDATES)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=ZoneInfo(settings.schedule.timezone)))
        .persistence(persistence)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init(settings))
        .post_shutdown(_post_shutdown)
        .build()
    )
    register_handlers(app)
    return app


def _post_init(settings: Settings) -> AppHook:
    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        # /metrics and /healthz first: a taken port fails at once, and /healthz says "starting"
        # while the model loads.
        monitoring = await BotMonitoring.start(settings, "bot")
        if monitoring is not None:
            app.bot_data[MONITORING_KEY] = monitoring
            if isinstance(app.persistence, UserDataPersistence):
                monitoring.health.watch_component(USER_STORE_COMPONENT, app.persistence.health.status)
        services = await BotServices.open(settings)
        app.bot_data[SERVICES_KEY] = services
        services.preload_garment_parser()  # in the background: no photo waits for the model
        services.preload_text_analyser()
        await set_everyones_menus(app.bot)
        admin_menus = AdminMenus(settings.telegram.admin_ids)
        app.bot_data[ADMIN_MENUS_KEY] = admin_menus
        await admin_menus.set_all(app.bot)
        await start_nightly(app, services)
        await start_alerts(app, services)  # after the nightly sync: it observes its runs
        services.stats_sections += [index_stats_section, sync_stats_section]
        services.stats_sections.append(users_stats_section(lambda: user_store(app), _store_reason(app)))
        if monitoring is not None:
            monitoring.attach_bot(services)

    return post_init


def _store_reason(app: Application) -> Callable[[], str | None]:  # type: ignore[type-arg]
    def reason() -> str | None:
        persistence = app.persistence
        return persistence.health.reason if isinstance(persistence, UserDataPersistence) else None

    return reason


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    monitoring = app.bot_data.pop(MONITORING_KEY, None)
    if monitoring is not None:
        await monitoring.stop()
    opened = app.bot_data.pop(SERVICES_KEY, None)
    if opened is not None:
        await opened.close()
