#!lua
-- Counts one message at most once within the dedup window. Runs atomically: no other command sees a state where the
-- id is recorded but the counters are not yet incremented.
--
-- KEYS[1] seen:<id>                 the idempotency record (string "1", expires after the dedup window)
-- KEYS[2] country:counts            HASH country → count
-- KEYS[3] messages:total            STRING total
-- KEYS[4] weather:counts            HASH weather → count
-- KEYS[5] country_weather:counts    HASH "<country>:<weather>" → count
-- ARGV[1] dedup window in seconds (a positive integer)
-- ARGV[2] country, ARGV[3] weather
-- Returns 1 if the message was counted now, 0 if its id was already recorded.
--
-- Every key is passed in KEYS, never built here, so a client's key prefix applies to all of them.
-- The `#!lua` line makes the server treat this as a writing script and refuse it as a whole under maxmemory (OOM),
-- before the SET, so an OOM never leaves an id recorded but uncounted.

if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('INCR', KEYS[3])
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
redis.call('HINCRBY', KEYS[5], ARGV[2] .. ':' .. ARGV[3], 1)
return 1
