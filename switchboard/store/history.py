"""The conversation's history (conv:{c}:history): turns appended once per answer, trimmed to its bounds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence

from switchboard.store.base import StoreBase
from switchboard.store.records import StoredMessage
from switchboard.tokens import BYTES_PER_TOKEN, TOKENS_PER_MESSAGE

# The history's bounds, shared by _RECORD_ANSWER and folding.py's _END_FOLD (a longer summary leaves less room).
# Past a bound (turns, estimated tokens with the summary counted in, characters when
# HISTORY_MAX_CHARS is set), the oldest whole exchanges leave the history: onto the fold list for
# the summary task (HISTORY_SUMMARY), or dropped. Tokens are estimated as switchboard/tokens.py does
# (bytes / bytes-per-token, rounded up, plus the per-message framing); characters are counted as
# characters (UTF-8 lead bytes), not bytes. bounds(i) reads History._bounds() from ARGV[i].
TRIM_HISTORY = """
local function bounds(i)
  return {turns = tonumber(ARGV[i]), chars = tonumber(ARGV[i + 1]), tokens = tonumber(ARGV[i + 2]),
          per_token = tonumber(ARGV[i + 3]), per_message = tonumber(ARGV[i + 4]), fold = ARGV[i + 5] == '1'}
end
local function trim_history(history, fold_list, summary_key, b)
  local function chars(s) local _, n = string.gsub(s, '[^\\128-\\191]', '') return n end
  local function tokens(text) return math.ceil(#text / b.per_token) + b.per_message end
  local turns = redis.call('LRANGE', history, 0, -1)
  local roles, sizes, weights = {}, {}, {}
  local total_chars, total_tokens = 0, 0
  local summary = redis.call('HGET', summary_key, 'text')
  if summary and summary ~= '' then total_tokens = tokens(summary) end
  for i, turn in ipairs(turns) do
    local ok, decoded = pcall(cjson.decode, turn)
    local content = turn
    if ok and type(decoded) == 'table' then
      roles[i] = decoded['role']
      if type(decoded['content']) == 'string' then content = decoded['content'] end
    end
    sizes[i], weights[i] = chars(turn), tokens(content)
    total_chars, total_tokens = total_chars + sizes[i], total_tokens + weights[i]
  end
  local n, first = #turns, 1
  local function over()
    return n - first + 1 > b.turns or (b.chars > 0 and total_chars > b.chars) or total_tokens > b.tokens
  end
  while first <= n and over() do
    -- One whole exchange at a time: answers left over from an older cut, the user's turns, the answers to them.
    local j = first
    while j <= n and roles[j] ~= 'user' do j = j + 1 end
    while j <= n and roles[j] == 'user' do j = j + 1 end
    while j <= n and roles[j] ~= 'user' do j = j + 1 end
    for k = first, j - 1 do
      total_chars, total_tokens = total_chars - sizes[k], total_tokens - weights[k]
      if b.fold then redis.call('RPUSH', fold_list, turns[k]) end
    end
    first = j
  end
  if first > 1 then redis.call('LTRIM', history, first - 1, -1) end
  return first - 1
end
"""

# Store the answer once; only the run that stores it extends the history, so a second run of the
# same completion can neither answer twice nor add a turn twice.
# KEYS: record, answered mark, history, fold list, summary. ARGV: answer, now, TTL, the bounds (4-9),
# a fresh fold generation, then the new turns (JSON).
_RECORD_ANSWER = TRIM_HISTORY + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'answer', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'answered_at', ARGV[2])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if seq > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], seq, 'EX', ARGV[3])
end
for i = 11, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
local b = bounds(4)
if trim_history(KEYS[3], KEYS[4], KEYS[5], b) > 0 and b.fold then
  redis.call('HSETNX', KEYS[5], 'generation', ARGV[10])
end
for i = 3, 5 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return 1
"""


class History(StoreBase):
    """Reading, extending and clearing a conversation's history; what overflows goes to folding.py."""

    def _register_scripts(self) -> None:
        super()._register_scripts()
        self._record_answer = self.redis.register_script(_RECORD_ANSWER)

    def history(self, conversation: str) -> list[dict[str, str]]:
        turns = self.redis.lrange(self._conv(conversation, "history"), 0, -1)
        return [json.loads(t) for t in turns]

    def record_answer(self, message: StoredMessage, answer: str, turns: Sequence[Mapping[str, str]]) -> bool:
        """Store the answer and append `turns` to the history, once. False if it was answered before.

        Turns past the history's bounds move to the fold list (HISTORY_SUMMARY; see `fold_due`) or are dropped.
        """
        limits, conversation = self.limits, message.conversation
        stored = self._record_answer(
            keys=[self._msg(message.inbound.message_sid, conversation), self._conv(conversation, "answered"),
                  self._conv(conversation, "history"), self._conv(conversation, "to-fold"),
                  self._conv(conversation, "summary")],
            args=[answer, time.time(), limits.ttl_seconds, *self._bounds(), uuid.uuid4().hex[:12],
                  *(json.dumps(dict(t), ensure_ascii=False) for t in turns)],
        )
        return bool(stored)

    def clear_history(self, conversation: str) -> None:
        """Forget the conversation's turns (/reset): the history, the turns waiting to be folded and the summary."""
        self.redis.delete(*(self._conv(conversation, what) for what in ("history", "to-fold", "summary")))

    def _bounds(self) -> list[int | str]:
        """The history's bounds as TRIM_HISTORY's bounds() reads them from ARGV."""
        limits = self.limits
        return [limits.max_turns, max(limits.max_chars, 0), limits.max_tokens, BYTES_PER_TOKEN, TOKENS_PER_MESSAGE,
                "1" if limits.summarize else "0"]
