/**
 * Lua scripts that make the Redis engine's queue operations atomic across every process
 * sharing the Redis (a script runs alone on the server). KEYS[1] is the sorted set of keys,
 * KEYS[2] the hash of values (see redis.ts); the queue layout is `AtomicQueueEngine`'s.
 */
const PRELUDE = `
local Z, H = KEYS[1], KEYS[2]
local function meta(mk)
  local m = redis.call('HGET', H, mk)
  if not m then return 0, 0 end
  local d = cjson.decode(m)
  return tonumber(d.h), tonumber(d.t)
end
local function setmeta(mk, h, t)
  if t == h then
    redis.call('HDEL', H, mk)
    redis.call('ZREM', Z, mk)
  else
    redis.call('HSET', H, mk, string.format('{"h":%d,"t":%d}', h, t))
    redis.call('ZADD', Z, 0, mk)
  end
end
local function ik(prefix, seq) return prefix .. string.format('%013x', seq) end
`;

/** ARGV: metaKey, itemPrefix, value, max. Returns {1, newLength} or {0, length} when full. */
export const PUSH = `${PRELUDE}
local h, t = meta(ARGV[1])
local max = tonumber(ARGV[4])
if t - h >= max then return {0, t - h} end
local k = ik(ARGV[2], t)
redis.call('HSET', H, k, ARGV[3])
redis.call('ZADD', Z, 0, k)
setmeta(ARGV[1], h, t + 1)
return {1, t + 1 - h}
`;

/**
 * ARGV: metaKey, itemPrefix, max ("" = all). Returns the removed items, oldest first. Checks
 * every item is there before removing any; works in chunks (Lua's unpack has a stack limit).
 */
export const DRAIN = `${PRELUDE}
local h, t = meta(ARGV[1])
local n = t - h
if ARGV[3] ~= '' then n = math.min(n, tonumber(ARGV[3])) end
if n <= 0 then return {} end
local CHUNK = 1000
local out = {}
for base = 0, n - 1, CHUNK do
  local keys = {}
  for i = base, math.min(n, base + CHUNK) - 1 do keys[#keys + 1] = ik(ARGV[2], h + i) end
  local vals = redis.call('HMGET', H, unpack(keys))
  for i = 1, #keys do
    if not vals[i] then return redis.error_reply('M2M_STORE_CORRUPT queue item ' .. (h + base + i - 1) .. ' missing') end
    out[#out + 1] = vals[i]
  end
end
for base = 0, n - 1, CHUNK do
  local keys = {}
  for i = base, math.min(n, base + CHUNK) - 1 do keys[#keys + 1] = ik(ARGV[2], h + i) end
  redis.call('HDEL', H, unpack(keys))
  redis.call('ZREM', Z, unpack(keys))
end
setmeta(ARGV[1], h + n, t)
return out
`;

/** ARGV: metaKey, itemPrefix. Returns the oldest item or nil. */
export const PEEK = `${PRELUDE}
local h, t = meta(ARGV[1])
if t == h then return false end
local v = redis.call('HGET', H, ik(ARGV[2], h))
if not v then return redis.error_reply('M2M_STORE_CORRUPT queue item ' .. h .. ' missing') end
return v
`;

/** ARGV: metaKey. */
export const LENGTH = `${PRELUDE}
local h, t = meta(ARGV[1])
return t - h
`;

/** ARGV: metaKey, itemPrefix. */
export const CLEAR = `${PRELUDE}
local h, t = meta(ARGV[1])
for i = h, t - 1 do
  local k = ik(ARGV[2], i)
  redis.call('HDEL', H, k)
  redis.call('ZREM', Z, k)
end
redis.call('HDEL', H, ARGV[1])
redis.call('ZREM', Z, ARGV[1])
return 0
`;

/** ARGV: key. Returns 1 when it existed. */
export const DELETE = `
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1])
`;
