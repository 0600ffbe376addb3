"""Cleanup of a test run's Redis keys, found by their prefix (on one server or every master of a cluster)."""

from __future__ import annotations

from switchboard.store.connection import connect

_BATCH = 500


def delete_keys_with_prefix(url: str, prefix: str) -> int:
    """Delete every key starting with `prefix`; returns how many. SCAN, not KEYS, so a shared Redis never blocks.

    With a redis+cluster:// URL the client scans every master and splits each DEL by slot.
    """
    if not prefix:
        raise ValueError("refusing to delete every key in the database: the prefix is empty")
    # Escape glob characters so the prefix matches only itself.
    pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
    client = connect(url, timeout_seconds=10)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=_BATCH):
            batch.append(key)
            if len(batch) == _BATCH:
                deleted += int(client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(client.delete(*batch))
    finally:
        client.close()
    return deleted
