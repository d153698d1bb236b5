-- POST /v1/bookings where every request is a new booking on a free slot with a unique key, so each
-- one does the full work of a create (validation, grid, availability, pricing, idempotency store).
-- Slots: 28 half-hour slots a day (08:00-22:00) in rm_studio, one day after another; each wrk
-- thread walks its own block of days and each run (first script argument) its own block of years.
local counter = 0
local run = 0
local threads = {}
-- A global, not a local: thread:set() writes the thread's globals, and a local would shadow it
-- (every thread would then send the same slots and keys, and half the "creates" were replays).
thread_index = 0

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  run = tonumber(args[1] or "0")
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

request = function()
  local day = math.floor(counter / 28)
  local slot = counter % 28
  counter = counter + 1
  -- 2030-01-01T08:00:00Z; runs are 40 years apart, threads 8 years apart, which no 10-second run fills.
  local base = 1893456000 + 8 * 3600
  local start = base + ((run * 5 + thread_index) * 2920 + day) * 86400 + slot * 1800
  local body = string.format(
    '{"room_id":"rm_studio","start_at":"%s","end_at":"%s","booked_by":{"member_id":"mem_alice"},"attendees":2}',
    iso(start), iso(start + 1800))
  local headers = {
    ["Authorization"] = "Bearer sk_test_demo_rw",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", run, thread_index, counter),
  }
  return wrk.format("POST", "/v1/bookings", headers, body)
end
