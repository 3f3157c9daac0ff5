-- wrk script: POST a valid rating with a new client_id each time.
-- The counter token comes from the environment (BENCH_COUNTER_TOKEN).
local counter = 0
local prefix = 0
local token = os.getenv("BENCH_COUNTER_TOKEN") or "none"
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = tonumber(tid or 1) * 100000 + (os.time() % 100000)
end

request = function()
  counter = counter + 1
  local id = string.format("%08x-0000-4000-8000-%012x", prefix, counter)
  local body = '{"counter_token":"' .. token .. '","official":"CB1","overall":'
    .. (counter % 5 + 1) .. ',"factors":{"access":4},"client_id":"' .. id .. '"}'
  return wrk.format("POST", "/api/v1/ratings", {["Content-Type"] = "application/json"}, body)
end
