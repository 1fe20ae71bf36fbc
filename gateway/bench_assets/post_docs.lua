-- wrk script for `zvarot bench`: each request posts the next pre-signed document from a length-prefixed file
-- (distinct MessageIds, so every request is a new document, never a duplicate).
local docs = {}
local counter, step, index = 0, 1, 0
local headers = { ["Content-Type"] = "application/xml" }

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
end

function init(args)
  load(args[1])
  step = tonumber(args[2])
  index = offset + 1
end

function request()
  local doc = docs[index]
  index = index + step
  if index > #docs then index = offset + 1 end
  return wrk.format("POST", "/api/v1/messages", headers, doc)
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d errors_status=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
