"""Photos waiting for the user to pick a garment: in memory, bounded per user, in time and in bytes.

When a photo shows several garments the bot asks which one to search; the photo (as sent) and
each garment's crop wait here under a short id that the buttons carry
(``v1:g:<photo_id>:<n>``). A user keeps at most ``[garments] pending_per_user`` photos (the
oldest is forgotten), each for ``pending_ttl_seconds``, and all users together at most
``max_bytes``. A press on a forgotten photo asks the user to send it again.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexer.clothes_parser.regions import Box

PHOTO_ID_BYTES = 6  # 8 URL-safe characters, like a search id
DEFAULT_PER_USER = 3
DEFAULT_TTL_SECONDS = 900.0
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # photos plus crops of every user together


@dataclass(frozen=True)
class PendingGarment:
    """A garment offered to the user: what it is, where, and its crop as JPEG bytes."""

    label: str
    categories: tuple[str, ...]
    area: float
    box: Box
    crop: bytes


@dataclass(frozen=True)
class PendingPhoto:
    id: str
    user_id: int
    data: bytes  # the photo as the user sent it ("Whole photo" searches exactly this)
    garments: tuple[PendingGarment, ...]  # garments[n - 1] is the garment numbered n
    created: float
    # The bot.scope.SearchScope the photo's caption made, for the garment the user picks (None: the
    # user's own). Typed loosely: bot.scope needs the bot's context, which needs this module.
    scope: object = None

    @property
    def size(self) -> int:
        return len(self.data) + sum(len(garment.crop) for garment in self.garments)


class PendingPhotos:
    """Pending photos by id, oldest first; see the module docstring for the bounds."""

    def __init__(
        self,
        *,
        per_user: int = DEFAULT_PER_USER,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_user < 1 or ttl_seconds <= 0 or max_bytes < 1:
            raise ValueError("per_user, ttl_seconds and max_bytes must be positive")
        self.per_user = per_user
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        self._clock = clock
        self._photos: OrderedDict[str, PendingPhoto] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._photos)

    @property
    def bytes(self) -> int:
        """Bytes held (photos and crops)."""
        return self._bytes

    def add(
        self,
        user_id: int,
        data: bytes,
        garments: Sequence[PendingGarment],
        scope: object = None,
    ) -> PendingPhoto:
        """Hold a photo for ``user_id`` (to be searched in ``scope``); forgets their oldest beyond
        ``per_user`` and anything expired."""
        photo_id = secrets.token_urlsafe(PHOTO_ID_BYTES)
        while photo_id in self._photos:
            photo_id = secrets.token_urlsafe(PHOTO_ID_BYTES)
        photo = PendingPhoto(photo_id, user_id, bytes(data), tuple(garments), self._clock(), scope)
        self._photos[photo_id] = photo
        self._bytes += photo.size
        self._prune(user_id)
        return photo

    def get(self, photo_id: str) -> PendingPhoto | None:
        """The photo, or None once it was forgotten (expired, or pushed out by newer ones)."""
        photo = self._photos.get(photo_id)
        if photo is not None and self._clock() - photo.created > self.ttl_seconds:
            self._remove(photo_id)
            return None
        return photo

    def _prune(self, user_id: int) -> None:
        now = self._clock()
        for photo_id, photo in list(self._photos.items()):
            if now - photo.created <= self.ttl_seconds:
                break  # oldest first: the rest are younger
            self._remove(photo_id)
        mine = [photo.id for photo in self._photos.values() if photo.user_id == user_id]
        for photo_id in mine[: max(0, len(mine) - self.per_user)]:
            self._remove(photo_id)
        while self._bytes > self.max_bytes and len(self._photos) > 1:
            self._remove(next(iter(self._photos)))

    def _remove(self, photo_id: str) -> None:
        photo = self._photos.pop(photo_id, None)
        if photo is not None:
            self._bytes -= photo.size
