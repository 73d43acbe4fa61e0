"""``snapfit health``: ask a running ``snapfit run`` / ``snapfit schedule`` for its ``/healthz``.

The container image's HEALTHCHECK runs it (the image has no curl). It reads the same
configuration as the process it checks, so it knows ``[metrics] host`` and ``port``; a wildcard
listen address (0.0.0.0, ::) is reached on loopback. Exit 0 when healthy, 1 when not (or when
nothing answers), 2 for a configuration that has no endpoint to ask. Only the standard library:
it runs every 30 s and must start fast.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Annotated, Any

import typer

from bot.cli import ConfigOption, app, fail, load

WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def health_url(host: str, port: int) -> str:
    host = WILDCARDS.get(host, host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/healthz"


@app.command("health")
def health(
    config: ConfigOption = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="Ask this /healthz URL instead of the one \\[metrics] host and port name."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for an answer.")
    ] = 10.0,
) -> None:
    """Check a running snapfit process through its /healthz endpoint (exit 0 healthy, 1 not)."""
    settings = load(config)
    if url is None:
        if not settings.metrics.enabled:
            raise fail("[metrics] enabled = false: the process serves no /healthz to ask", 2)
        if settings.metrics.port == 0:
            raise fail("[metrics] port = 0 (any free port): pass the process's address with --url", 2)
        url = health_url(settings.metrics.host, settings.metrics.port)
    # No proxy: the endpoint is this machine's (or this container's) own.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            body = _json(response.read())
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = _json(exc.read()), exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise fail(f"no answer from {url}: {reason}") from None
    reasons = "; ".join(body.get("reasons") or []) if isinstance(body, dict) else ""
    state = body.get("status") if isinstance(body, dict) else None
    if status == 200:
        typer.echo(f"{state or 'ok'}: {url}")
        return
    raise fail(f"{state or 'unhealthy'} (HTTP {status}) at {url}: {reasons or 'no reason given'}")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
