-- Shared by the workloads: thread ids, the key, random picks over the dataset.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  n = 0
  key = os.getenv("BENCH_KEY")
  conversations = tonumber(os.getenv("BENCH_CONVERSATIONS"))
  -- BENCH_FIRST_CONVERSATION: pick among the newer conversations only (those a purge keeps).
  first = tonumber(os.getenv("BENCH_FIRST_CONVERSATION") or "0")
  bot = os.getenv("BENCH_BOT")
  headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
end

function next_id()
  n = n + 1
  return "load-" .. tid .. "-" .. n .. "-" .. math.random(1, 1000000000)
end
