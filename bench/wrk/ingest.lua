-- POST /v1/ingest: 500 events a batch (a new conversation and 499 messages).
dofile("bench/wrk/common.lua")
function request()
  local conv = next_id()
  local parts = { string.format('{"type":"conversation","id":"%s","bot_id":"%s","metadata":{"variant":"A"}}', conv, bot) }
  for i = 1, 499 do
    local role = (i % 2 == 1) and "user" or "assistant"
    parts[#parts + 1] = string.format(
      '{"type":"message","conversation_id":"%s","id":"%s-m%d","role":"%s","content":"Message %d of a load test conversation about shipping and returns."}',
      conv, conv, i, role, i)
  end
  return wrk.format("POST", "/v1/ingest", headers, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
