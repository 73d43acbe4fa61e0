"""robots.txt rules (RFC 9309) read by protego, with what a refusal message needs.

protego decides: the group of our product token (else ``*``), the longest matching Allow or
Disallow, wildcards, percent-encoding, and Crawl-delay. It does not say which line decided, so
a refusal names what is known for certain: the User-agent group that applies to us and the path
it refuses. Reading the file (and what an unreachable one means) is the client's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

_USER_AGENT_LINE = re.compile(r"^[ \t]*user-?agent[ \t]*:[ \t]*([^#\s]+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RobotsDecision:
    """Whether a URL may be fetched, and which group and path said so (for messages)."""

    allowed: bool
    group: str | None  # the User-agent group that applies to us ("*", "SnapFit"); None: no group does
    path: str  # the path and query that were checked

    def describe(self) -> str:
        group = f"group User-agent: {self.group}" if self.group else "no group"
        return f"{group}, path {self.path}"


def product_token(user_agent: str) -> str:
    """The name a robots.txt group uses for us: 'snapfit/0.1 (+https://…)' -> 'snapfit'."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return token.lower()


class RobotsTxt:
    """One host's robots.txt: ``check(url, user_agent)`` and ``crawl_delay(user_agent)``."""

    def __init__(self, parser: Protego, agents: tuple[str, ...]) -> None:
        self._parser = parser
        self._agents = agents

    @classmethod
    def parse(cls, text: str) -> RobotsTxt:
        agents = tuple(dict.fromkeys(match.group(1) for match in _USER_AGENT_LINE.finditer(text)))
        return cls(Protego.parse(text), agents)

    @classmethod
    def allow_all(cls) -> RobotsTxt:
        """No rules (RFC 9309 §2.3.1.3: a robots.txt that answers 4xx allows everything)."""
        return cls.parse("")

    def check(self, url: str, user_agent: str) -> RobotsDecision:
        token = product_token(user_agent)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return RobotsDecision(self._parser.can_fetch(url, token), self._group_for(token), path)

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds between requests that our group asks for; None when it asks for nothing."""
        delay = self._parser.crawl_delay(product_token(user_agent))
        return delay if delay else None

    def _group_for(self, token: str) -> str | None:
        """The group protego applies to ``token``: the longest agent name found in it at a word
        start, else ``*`` (the same choice as protego's own matching)."""
        best: str | None = None
        for agent in self._agents:
            name = agent.lower()
            if name == "*":
                best = best or agent
                continue
            start = token.find(name)
            while start != -1 and start > 0 and (token[start - 1].isalnum() or token[start - 1] in "-_"):
                start = token.find(name, start + 1)
            if start != -1 and (best is None or best == "*" or len(name) > len(best)):
                best = agent
        return best
