-- wrk script: POST /events with varied bodies across 50,000 users and the four event types
-- (plus an unknown one), same-day repeats included so suppression is exercised.
-- `wrk ... -s bench/events.lua URL -- keys` sends a unique Idempotency-Key with each request.
local types = {"signup_completed", "link_bank_success", "payment_failed", "payment_failed", "payment_initiated", "app_opened"}
local reasons = {"INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS", "CARD_DECLINED", "NETWORK_ERROR"}
local counter = 0
local keys = false

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
  keys = args[1] == "keys"
end

request = function()
  counter = counter + 1
  local user = math.random(1, 50000)
  local t = types[math.random(1, #types)]
  local day = math.random(1, 28)
  local body = string.format(
    '{"user_id":"u_%d","event_type":"%s","event_timestamp":"2025-10-%02dT%02d:%02d:00Z",' ..
    '"properties":{"failure_reason":"%s","attempt_number":%d,"amount":%d.99},' ..
    '"user_traits":{"email":"u_%d@example.com","country":"US","marketing_opt_in":%s,"risk_segment":"low"}}',
    user, t, day, math.random(0, 23), math.random(0, 59), reasons[math.random(1, #reasons)],
    math.random(1, 5), math.random(1, 500), user, (math.random(1, 10) > 2) and "true" or "false")
  local headers = {["Content-Type"] = "application/json"}
  if keys then
    headers["Idempotency-Key"] = string.format("k-%d-%d", seed, counter)
  end
  return wrk.format("POST", "/events", headers, body)
end

response = function(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
