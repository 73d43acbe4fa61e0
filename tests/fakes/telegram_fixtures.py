"""pytest plugin: a started ``FakeTelegram`` per test and PTB's test environment.

Enable it for the whole suite with one line in tests/conftest.py::

    pytest_plugins = ["tests.fakes.telegram_fixtures"]
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_ptb import TEST_TOKEN


@pytest.fixture
def ptb_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PTB_TIMEDELTA=1 (RetryAfter.retry_after is a timedelta, no deprecation warning); quiet httpx.

    httpx logs every request URL, token included, at INFO.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)
    yield
    httpx_logger.setLevel(level)


@pytest.fixture
async def fake_telegram(ptb_environment: None) -> AsyncIterator[FakeTelegram]:
    """A started fake accepting ``TEST_TOKEN``; the test fails if the bot committed a violation."""
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        yield fake
        assert not fake.violations, f"the bot broke Telegram's rules: {fake.violations}"
