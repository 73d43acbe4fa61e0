"""A strict fake Telegram Bot API server for end-to-end tests with python-telegram-bot's real networking.

See /work/shared/reference/telegram-fake-bot-api.md for the behaviour it follows, and ``FakeTelegram``
for the test-side API. Nothing here imports PTB: the fake speaks HTTP only, like api.telegram.org.
"""

from . import errors
from .errors import ApiError
from .request import UploadedFile
from .server import Call, Download, FakeTelegram
from .state import ChatAction, FakeUser

__all__ = ["ApiError", "Call", "ChatAction", "Download", "FakeTelegram", "FakeUser", "UploadedFile", "errors"]
