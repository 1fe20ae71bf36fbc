-- wrk script for `zvarot bench`: each request posts the next pre-signed document from a length-prefixed file
-- (distinct MessageIds, so every request is a new document, never a duplicate). A thread that has sent all of
-- its documents starts again from its first: those requests are duplicates, which the gateway answers without
-- storing anything, so they are counted (`repeated`) and the bench takes them for errors, not throughput (for
-- the HTTP floor, which keeps nothing and does the same work for every document, they count as throughput).
local docs = {}
local counter, step, index = 0, 1, 0
local headers = { ["Content-Type"] = "application/xml" }
local threads = {}
repeated = 0 -- a global of each thread's state: done() reads it with thread:get

local function load(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    docs[#docs + 1] = data:sub(nl + 1, nl + len)
    pos = nl + len + 1
  end
end

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function init(args)
  load(args[1])
  step = tonumber(args[2])
  index = offset + 1
end

local wrapped = false

function request()
  local doc = docs[index]
  if wrapped then repeated = repeated + 1 end
  index = index + step
  if index > #docs then
    index = offset + 1
    wrapped = true
  end
  return wrk.format("POST", "/api/v1/messages", headers, doc)
end

function done(summary, latency, requests)
  local again = 0
  for _, thread in ipairs(threads) do again = again + thread:get("repeated") end
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d errors_status=%d socket_errors=%d repeated=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, again))
end
