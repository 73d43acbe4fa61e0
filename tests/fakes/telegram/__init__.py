"""A strict fake Telegram Bot API server for end-to-end tests with python-telegram-bot's real networking.

Nothing here imports PTB: the fake speaks HTTP only, like api.telegram.org. Typical use::

    async with FakeTelegram(token=TEST_TOKEN) as fake:      # or the ``fake_telegram`` fixture
        app = ApplicationBuilder().token(TEST_TOKEN).base_url(fake.base_url)
                                  .base_file_url(fake.base_file_url).build()
        async with polling(app):                            # tests/fakes/telegram_ptb.py
            fake.push_photo(42, jpeg_bytes)
            album = await fake.wait_for("sendMediaGroup", ok=True)

Error descriptions live in ``errors``; strings marked UNCONFIRMED there are best-known wordings.
"""

from . import errors
from .errors import ApiError
from .request import UploadedFile
from .server import Call, Download, FakeTelegram
from .state import ChatAction, FakeUser
from .webhook import WebhookConfig, WebhookPost

__all__ = [
    "ApiError",
    "Call",
    "ChatAction",
    "Download",
    "FakeTelegram",
    "FakeUser",
    "UploadedFile",
    "WebhookConfig",
    "WebhookPost",
    "errors",
]
