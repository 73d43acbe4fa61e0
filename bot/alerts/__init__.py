"""Price-drop and restock alerts for saved products, after each sync.

``compute`` turns one sync's ``PriceChanges`` (indexer.sync.changes) into alerts, from the changed
ids only; ``compose`` words one user's message; ``send`` delivers pending alerts, paced, recording
each user's as sent right after their message; ``runner`` ties them to the bot (after each sync,
a poll for syncs run by another process, and at start-up).
"""

from bot.alerts.runner import AlertRunner, start_alerts

__all__ = ["AlertRunner", "start_alerts"]
