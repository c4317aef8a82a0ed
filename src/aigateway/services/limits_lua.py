"""The Lua scripts of the Redis spend book (services/limits_redis.py).

Each runs atomically in Redis, so check-and-hold over all of a call's scopes is one step for every
gateway process sharing the deployment. Key layout per scope (``P`` is the hash-tagged prefix, so all
keys of a deployment hash to one cluster slot):

* ``P:v:{scope}``  stored value: the wallet's balance, or the cap's / budget's spent (nano-dollars)
* ``P:r:{scope}``  hash call id -> amount that call holds on the scope
* ``P:e:{scope}``  sorted set call id -> when that hold expires (Redis time, ms)
* ``P:t:{scope}``  the scope's total held (the sum of the hash, kept so checks are O(1))
* ``P:call:{id}``  "this call is admitted and not settled": makes settle idempotent and lets a
  settle that comes after the hold expired still book the call's cost

Amounts are compared as Lua numbers (doubles): exact up to 2**53 nano-dollars (about $9M) per scope;
they are changed with INCRBY / DECRBY, which are exact 64-bit integer operations.
"""

from __future__ import annotations

# KEYS: call marker, then per scope v, r, e, t. ARGV: amount, hold ms, marker ms, call id, then per
# scope its kind ("w" wallet, "c" cap or budget) and cap.
# Returns {1, available after the hold per scope...} | {0, refusing scope index, available} |
# {-1, index of each scope missing in Redis...} (load them, then call again).
RESERVE = """
local amount = tonumber(ARGV[1])
local hold_ms = tonumber(ARGV[2])
local mark_ms = tonumber(ARGV[3])
local call = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = (#KEYS - 1) / 4
local missing = {-1}
for i = 1, n do
  if redis.call('EXISTS', KEYS[4 * i - 2]) == 0 then
    missing[#missing + 1] = i
  end
end
if #missing > 1 then
  return missing
end
local left = {1}
for i = 1, n do
  local b = 4 * i - 2
  local r, e, tot = KEYS[b + 1], KEYS[b + 2], KEYS[b + 3]
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', e, '-inf', now)) do
    local a = redis.call('HGET', r, c)
    if a then
      redis.call('DECRBY', tot, a)
      redis.call('HDEL', r, c)
    end
    redis.call('ZREM', e, c)
  end
  local stored = tonumber(redis.call('GET', KEYS[b]))
  local held = tonumber(redis.call('GET', tot) or '0')
  local available
  if ARGV[3 + 2 * i] == 'w' then
    available = stored - held
  else
    available = tonumber(ARGV[4 + 2 * i]) - stored - held
  end
  if amount > available then
    if available < 0 then
      available = 0
    end
    return {0, i, available}
  end
  left[i + 1] = available - amount
end
for i = 1, n do
  local b = 4 * i - 2
  redis.call('HINCRBY', KEYS[b + 1], call, amount)
  redis.call('ZADD', KEYS[b + 2], now + hold_ms, call)
  redis.call('INCRBY', KEYS[b + 3], amount)
  for k = b + 1, b + 3 do
    redis.call('PEXPIRE', KEYS[k], hold_ms + 60000)
  end
end
redis.call('SET', KEYS[1], '1', 'PX', mark_ms)
return left
"""

# KEYS: call marker, then per scope v, r, e, t. ARGV: call id, actual cost, then per scope its kind.
# Returns 1 when settled now, 0 when the call was not (or no longer) admitted: nothing changes.
SETTLE = """
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
local call = ARGV[1]
local actual = ARGV[2]
local n = (#KEYS - 1) / 4
for i = 1, n do
  local b = 4 * i - 2
  local a = redis.call('HGET', KEYS[b + 1], call)
  if a then
    redis.call('HDEL', KEYS[b + 1], call)
    redis.call('DECRBY', KEYS[b + 3], a)
  end
  redis.call('ZREM', KEYS[b + 2], call)
  if actual ~= '0' and redis.call('EXISTS', KEYS[b]) == 1 then
    if ARGV[2 + i] == 'w' then
      redis.call('DECRBY', KEYS[b], actual)
    else
      redis.call('INCRBY', KEYS[b], actual)
    end
  end
end
return 1
"""

# KEYS: a wallet's value key. ARGV: amount. A wallet Redis does not know yet is left alone: its first
# load reads the stored balance, which already includes the credit.
CREDIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""
