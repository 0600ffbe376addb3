"""SQS faults (tasks/sqs_faults.py): seen by one worker, shown by every process."""

from __future__ import annotations

from switchboard.store.base import StoreBase, as_text


class SqsFaults(StoreBase):
    """sqs-fault:{queue}: an SQS configuration fault some worker sees now, with its cause."""

    def record_sqs_fault(self, queue: str, cause: str, ttl_seconds: int) -> None:
        # A short TTL, renewed while the fault lasts, so a dead worker's fault ages out by itself.
        self.redis.set(self._key("sqs-fault", queue), cause, ex=ttl_seconds)

    def clear_sqs_fault(self, queue: str) -> None:
        self.redis.delete(self._key("sqs-fault", queue))

    def sqs_faults(self) -> dict[str, str]:
        """Queue name -> cause, for every SQS configuration fault some worker sees now."""
        prefix = self._key("sqs-fault", "")
        keys = list(self.redis.scan_iter(match=prefix + "*", count=100))  # a cluster's client scans every master
        # One GET each, not MGET: on a cluster the keys sit in different slots.
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            values = pipe.execute()
        return {as_text(key)[len(prefix):]: as_text(value) for key, value in zip(keys, values, strict=True)
                if value is not None}
