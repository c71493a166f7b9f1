-- POST /v1/feedback: thumbs from new users on random answers of the dataset.
dofile("bench/wrk/common.lua")
function request()
  local c = math.random(first, conversations - 1)
  local body = string.format('{"message_id":"bench-c%d-a%d","feedback_type":"%s","user_id":"%s"}',
    c, math.random(1, 3), (math.random() < 0.7) and "positive" or "negative", next_id())
  return wrk.format("POST", "/v1/feedback", headers, body)
end
