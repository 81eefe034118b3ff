#!lua flags=no-writes
-- Reads the four counters at one instant (a script runs atomically). Flagged no-writes, it also runs while the
-- server refuses writes — at maxmemory under noeviction, or as a read-only replica — when Redis 7.0 refuses every
-- command queued in a MULTI, reads included, so that `npm run compare` and the live page still see the counts.
--
-- KEYS[1] country:counts, KEYS[2] messages:total, KEYS[3] weather:counts, KEYS[4] country_weather:counts
-- Returns { HGETALL, GET (nil when never counted), HGETALL, HGETALL } of them.

return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('GET', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
}
