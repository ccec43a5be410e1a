-- wrk script for ./dev bench. MODE "get": plain GET of the URL's path; "post": POST the corpus bodies in turn.
-- Each body is a template whose %d is a workload.tokens_per_request unique to this request in the whole run, so
-- that every decision is distinct and is computed and stored afresh, and realistic: the run's POSTs take the
-- numbers from 4096 up, one each. This phase's requests take 4096 + START + thread + THREADS x n (n = 0, 1, ...
-- per thread); the harness sets START (the first number no earlier phase used) and reads "generated" (the most
-- requests one thread made) to set the next phase's.
MODE = "post"
START = 0
THREADS = 2
local bodies = {
  --BODIES--
}
local threads = {}
-- Global, not local: done() reads each thread's count with thread:get("counter").
counter = 0
local base = 0

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  base = 4096 + START + (thread_index or 0)
end

request = function()
  if MODE == "get" then
    return wrk.format("GET")
  end
  local body = string.format(bodies[(counter % #bodies) + 1], base + counter * THREADS)
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local generated = 0
  for _, thread in ipairs(threads) do
    local made = thread:get("counter") or 0
    if made > generated then
      generated = made
    end
  end
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"status_errors":%d,"generated":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, generated))
end
