-- GET /v1/analytics/overview over the last 365 days.
dofile("bench/wrk/common.lua")
function request()
  return wrk.format("GET", "/v1/analytics/overview?from=" .. os.getenv("BENCH_FROM") .. "&to=" .. os.getenv("BENCH_TO"), headers)
end
