#!lua
-- Counts a batch of messages, each at most once within the dedup window, in one script call. Runs atomically: no
-- other command sees a state where an id is recorded but the counters are not yet incremented.
--
-- KEYS[1] country:counts            HASH country → count
-- KEYS[2] messages:total            STRING total
-- KEYS[3] weather:counts            HASH weather → count
-- KEYS[4] country_weather:counts    HASH "<country>:<weather>" → count
-- KEYS[4 + i] seen:<id of message i>  the idempotency record (string "1", expires after the dedup window)
-- ARGV[1] dedup window in seconds (a positive integer)
-- ARGV[2i], ARGV[2i + 1] country and weather of message i
-- Returns how many of the batch's messages were counted now; the others' ids were already recorded (by an earlier
-- call, another client, or an earlier message of this batch: its SET NX then fails).
--
-- Every key is passed in KEYS, never built here, so a client's key prefix applies to all of them.
-- The `#!lua` line makes the server treat this as a writing script and refuse it as a whole under maxmemory (OOM),
-- or on a replica (READONLY), before the first SET: a refusal never leaves an id recorded but uncounted.
--
-- The new ids are tallied here and each counter field is incremented once per batch, by how many new messages it
-- counts: one HINCRBY per distinct country, weather and country:weather, and one INCRBY, instead of four writes per
-- message.
-- An increment can only fail if someone wrote a counter key by hand (wrong type, a field that is not a count).
-- No server rolls a script back, so this one undoes its own writes then and returns the error: a failed call
-- leaves nothing recorded and nothing counted.

local ttl = ARGV[1]
local recorded = {}
-- field → count of new messages, and the fields in the order they first came (the writes' order).
local byCountry, countries = {}, {}
local byWeather, weathers = {}, {}
local byCountryWeather, countryWeathers = {}, {}

local function tally(counts, fields, field)
  local count = counts[field]
  if count then
    counts[field] = count + 1
  else
    counts[field] = 1
    fields[#fields + 1] = field
  end
end

for i = 5, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
    recorded[#recorded + 1] = KEYS[i]
    local country, weather = ARGV[2 * (i - 4)], ARGV[2 * (i - 4) + 1]
    tally(byCountry, countries, country)
    tally(byWeather, weathers, weather)
    tally(byCountryWeather, countryWeathers, country .. ':' .. weather)
  end
end
if #recorded == 0 then
  return 0
end

-- Each increment done: { key, field or false, by, the value it left }.
local done = {}

local function undo()
  for j = #done, 1, -1 do
    local key, field, by, left = done[j][1], done[j][2], done[j][3], done[j][4]
    -- left == by: the field (or key) was not there before (or held 0), so it goes rather than stay as 0.
    if field then
      if left == by then
        redis.call('HDEL', key, field)
      else
        redis.call('HINCRBY', key, field, -by)
      end
    elseif left == by then
      redis.call('DEL', key)
    else
      redis.call('DECRBY', key, by)
    end
  end
  redis.call('DEL', unpack(recorded))
end

local function increment(key, field, by)
  local reply
  if field then
    reply = redis.pcall('HINCRBY', key, field, by)
  else
    reply = redis.pcall('INCRBY', key, by)
  end
  if type(reply) == 'table' and reply.err then
    return reply
  end
  done[#done + 1] = { key, field, by, reply }
end

local failed
for _, country in ipairs(countries) do
  failed = failed or increment(KEYS[1], country, byCountry[country])
end
failed = failed or increment(KEYS[2], false, #recorded)
for _, weather in ipairs(weathers) do
  failed = failed or increment(KEYS[3], weather, byWeather[weather])
end
for _, field in ipairs(countryWeathers) do
  failed = failed or increment(KEYS[4], field, byCountryWeather[field])
end
if failed then
  undo()
  return failed
end
return #recorded
