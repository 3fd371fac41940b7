-- wrk script for bench/load.py: many logged-in users at once.
--
--   wrk ... -s bench/wrk.lua http://127.0.0.1:PORT -- REQUESTS_FILE EXPECTED_STATUSES [STOP_AFTER MARKER]
--
-- REQUESTS_FILE holds one request a line, tab-separated: METHOD, PATH, COOKIE, BODY ("-" for
-- none). Each request picks a line at random, so the load is spread over every session in the
-- file. In a POST body, {KEY} becomes a fresh 32-hex-digit submission key per request.
-- EXPECTED_STATUSES is a comma-separated list (e.g. "200" or "200,302"); any other status
-- counts as an error. STOP_AFTER (per thread) stops the thread after that many responses and
-- creates the file MARKER.<thread>; wrk itself runs for its -d duration unless interrupted, so
-- bench/load.py sends it SIGINT once every thread's marker exists.
-- done() prints one line "WRKJSON {...}" for bench/load.py to read.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

local lines = {}
local expected = {}
local stop_after = 0
local marker = nil
responses = 0
unexpected = 0
statuses = {}

local HEX = "0123456789abcdef"

local function fresh_key()
  local digits = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    digits[i] = HEX:sub(n, n)
  end
  return table.concat(digits)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  for line in io.lines(args[1]) do
    local method, path, cookie, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t(.*)$")
    if method then
      table.insert(lines, { method = method, path = path, cookie = cookie, body = body })
    end
  end
  if #lines == 0 then
    error("no requests in " .. args[1])
  end
  for status in string.gmatch(args[2] or "200", "%d+") do
    expected[tonumber(status)] = true
  end
  stop_after = tonumber(args[3] or "0") or 0
  marker = args[4]
end

function request()
  local r = lines[math.random(#lines)]
  local headers = { ["User-Agent"] = "naltrexone-bench", ["Cookie"] = r.cookie }
  local body = nil
  if r.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = r.body:gsub("{KEY}", fresh_key())
  end
  return wrk.format(r.method, r.path, headers, body)
end

function response(status, headers, body)
  responses = responses + 1
  if not expected[status] then
    unexpected = unexpected + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
  if stop_after > 0 and responses == stop_after then
    if marker then
      local file = io.open(marker .. "." .. tostring(thread_id), "w")
      if file then
        file:close()
      end
    end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_unexpected = 0
  local all_statuses = {}
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + (thread:get("unexpected") or 0)
    for status, n in pairs(thread:get("statuses") or {}) do
      all_statuses[status] = (all_statuses[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(all_statuses) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"timeouts": %d, "status_over_399": %d, "unexpected_status": %d, "unexpected_by_status": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status, total_unexpected, table.concat(parts, ", ")
  ))
end
