"""Webhook mode: how ``snapfit run`` receives updates when ``[telegram] webhook_url`` is set.

Telegram POSTs each update to ``webhook_url`` (HTTPS, ended by a reverse proxy); PTB's webhook
server listens on plain HTTP at ``webhook_listen:webhook_port`` under the URL's path, calls
setWebhook at every start and answers 403 to a request without the right
``X-Telegram-Bot-Api-Secret-Token`` header. With no ``secret_token`` configured, a random one is
made at each start (setWebhook hands it to Telegram each time).
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from indexer.config import TelegramSettings
from indexer.logs import protect_secrets


@dataclass(frozen=True)
class WebhookOptions:
    """The arguments of PTB's ``run_webhook``/``start_webhook`` for one start of the bot."""

    url: str
    listen: str
    port: int
    url_path: str
    secret_token: str = field(repr=False)

    def start_kwargs(self) -> dict[str, Any]:
        return {
            "listen": self.listen,
            "port": self.port,
            "url_path": self.url_path,
            "webhook_url": self.url,
            "secret_token": self.secret_token,
        }

    def check_port(self) -> None:
        """Raise ``OSError`` now if the address cannot be listened on (PTB binds only after setWebhook)."""
        infos = socket.getaddrinfo(self.listen, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)


def webhook_options(telegram: TelegramSettings) -> WebhookOptions | None:
    """The webhook to run, or ``None`` for long polling (no ``webhook_url``); the secret is masked in logs."""
    if not telegram.webhook_url:
        return None
    secret = telegram.secret_token or secrets.token_urlsafe(32)
    protect_secrets([secret])
    return WebhookOptions(
        url=telegram.webhook_url,
        listen=telegram.webhook_listen,
        port=telegram.webhook_port,
        url_path=urlsplit(telegram.webhook_url).path.strip("/"),
        secret_token=secret,
    )
