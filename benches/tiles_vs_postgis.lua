-- wrk script of benches/tiles_vs_postgis.sh: cycles through a list of request paths
-- (one per line) on keep-alive connections, asking for gzip.
--
--   wrk -t2 -c16 -d15s --latency -s benches/tiles_vs_postgis.lua http://127.0.0.1:PORT -- LIST [THREADS]
--
-- Each thread starts at its own offset in the list so threads do not ask
-- for the same tile at the same moment. done() prints one machine-readable
-- line beginning with "WRK ".

wrk.headers["Accept-Encoding"] = "gzip"

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  local n = tonumber(args[2] or "2")
  i = math.floor(#paths * (tid or 0) / n)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f max_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
