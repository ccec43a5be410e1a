-- wrk script for ./dev bench. MODE "get": plain GET of the URL's path; "post": POST the corpus bodies in turn.
-- Each body is a template whose %d is a workload.tokens_per_request unique to this request in the whole run
-- (thread, round and counter), so that every decision is distinct and is computed and stored afresh.
MODE = "post"
ROUND = 0
local bodies = {
  --BODIES--
}
local threads = {}
local counter = 0
local base = 0

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  base = 4096 + ROUND * 10000000 + (thread_index or 0) * 1000000
end

request = function()
  if MODE == "get" then
    return wrk.format("GET")
  end
  counter = counter + 1
  local body = string.format(bodies[(counter % #bodies) + 1], base + counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"status_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
