"""Voice-note transcripts (issue 11): transcribed once per media item, kept on the message's record."""

from __future__ import annotations

from switchboard.store.base import StoreBase
from switchboard.store.records import StoredMessage

# Transcripts: the first one made is kept (a retry reuses it and never pays twice); an expired
# record is not recreated.
_RECORD_TRANSCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""


class Transcripts(StoreBase):
    """The fields transcript:{i} of a message's record (read back by Records.load)."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._record_transcript = self.redis.register_script(_RECORD_TRANSCRIPT)

    def record_transcript(self, message: StoredMessage, index: int, text: str) -> bool:
        """Keep media item `index`'s transcript on the message, once; False if kept before or the record is gone."""
        return bool(self._record_transcript(keys=[self._msg(message.inbound.message_sid, message.conversation)],
                                            args=[f"transcript:{index}", text]))
