-- POST /v1/conversations/{id}/upvote: new voters on random conversations.
dofile("bench/wrk/common.lua")
function request()
  local c = math.random(0, conversations - 1)
  return wrk.format("POST", "/v1/conversations/bench-c" .. c .. "/upvote", headers, '{"user_id":"' .. next_id() .. '"}')
end
