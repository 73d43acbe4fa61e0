"""``snapfit run``: the Telegram bot (long polling, or a webhook: bot.webhook) until SIGINT/SIGTERM.

Startup problems end with one line and a non-zero status: no token (2), a token Telegram
rejects, an unreachable Bot API, a webhook address that cannot be listened on or that Telegram
refuses, a model that cannot be loaded, an index folder that another process owns, a metrics
port that is taken (1).
"""

from __future__ import annotations

import asyncio

from bot.cli import EXIT_CONFIG, EXIT_FAILED, ConfigOption, app, fail, load


@app.command("run")
def run(config: ConfigOption = None) -> None:
    """Run the Telegram bot: answer photos with similar Musinsa products (stops on Ctrl-C or SIGTERM)."""
    settings = load(config)
    token = settings.telegram.token.strip()
    if not token:
        raise fail(
            "no Telegram bot token: set TELEGRAM_BOT_TOKEN (or [telegram] token in the config file)",
            EXIT_CONFIG,
        )
    from telegram import Bot, Update
    from telegram.error import BadRequest, InvalidToken, NetworkError

    from bot.app import build_application
    from bot.webhook import webhook_options
    from indexer.embedding.errors import EncoderError
    from indexer.monitoring import MonitoringError
    from indexer.store import CatalogError

    try:
        application = build_application(settings)
    except OSError as exc:  # the data folder (user settings) cannot be created
        raise fail(
            f"cannot use the data folder {settings.data.dir}: {exc.strerror or exc}", EXIT_FAILED
        ) from None

    async def reach_telegram() -> None:
        # getMe before the (slow) model load: a wrong token or an unreachable API fails in a second.
        async with Bot(
            token, base_url=settings.telegram.base_url, base_file_url=settings.telegram.base_file_url
        ):
            pass

    webhook = webhook_options(settings.telegram)
    allowed_updates = [Update.MESSAGE, Update.CALLBACK_QUERY]
    try:
        asyncio.run(reach_telegram())
        if webhook is not None:
            try:
                webhook.check_port()
            except OSError as exc:
                raise fail(
                    f"cannot listen for webhook updates on {webhook.listen}:{webhook.port}: "
                    f"{exc.strerror or exc} (check [telegram] webhook_listen and webhook_port)",
                    EXIT_FAILED,
                ) from None
        # run_polling/run_webhook take the current event loop; give them a fresh one (closed when done).
        asyncio.set_event_loop(asyncio.new_event_loop())
        if webhook is None:
            application.run_polling(allowed_updates=allowed_updates, close_loop=True)
        else:
            application.run_webhook(
                **webhook.start_kwargs(), allowed_updates=allowed_updates, close_loop=True
            )
    except InvalidToken:
        # PTB's own message quotes the token: never print it.
        raise fail("Telegram rejected the bot token (check TELEGRAM_BOT_TOKEN or [telegram] token)") from None
    except NetworkError as exc:
        if webhook is not None and isinstance(exc, BadRequest):  # setWebhook refused
            raise fail(f"Telegram refused the webhook {webhook.url}: {exc.message}") from None
        detail = str(exc).replace(token, "<redacted>")
        raise fail(f"cannot reach the Telegram Bot API at {settings.telegram.base_url}: {detail}") from None
    except (EncoderError, CatalogError, MonitoringError) as exc:
        raise fail(str(exc), EXIT_FAILED) from None
    finally:
        asyncio.set_event_loop(None)
