-- GET /v1/conversations?feedback=downvote: the first inbox page of unhappy conversations.
dofile("bench/wrk/common.lua")
function request()
  return wrk.format("GET", "/v1/conversations?feedback=downvote", headers)
end
