-- ringd.route: pick the backend for a request by asking the local ringd
-- agent, then hand that choice to the upstream balancer. This is
-- `render.sh --lookup resp` (one RESP round trip per request); the default,
-- --lookup snapshot, is ringd.snapshot_route (the ring inside nginx).
--
-- Phases (see nginx.conf.template):
--   access_by_lua   route.access()   RESP `RING.OWNERS <key> 3` to the agent
--                                    (the owner, then where to fail over; `GET
--                                    <key>`, no failover, for an agent without
--                                    it); on success stores the endpoints in
--                                    ngx.ctx; otherwise ends the request with
--                                    503 and a one-line body.
--   balancer_by_lua route.balancer() ringd.failover: $ringd_backend and
--                                    set_current_peer(ip, port), so the
--                                    upstream's `keepalive` pool keeps working
--                                    (proxy_pass http://$var would not); the
--                                    next owner on a connect failure.
--
-- The key is the request path exactly as the client sent it (the bytes of
-- $request_uri up to the first '?'): not URL-decoded, not normalised, no
-- query string. So /documents/a?x=1 and /documents/a?x=2 land on the same
-- backend, and the backend receives the same bytes that were hashed.
--
-- Agent errors never put a connection back into the pool. A pooled
-- connection that turns out to be dead (agent restarted, idle close) is
-- retried once on a fresh connection, so an agent restart costs no 503s.

local resp = require "ringd.resp"
local request = require "ringd.request"
local failover = require "ringd.failover"
local endpoint = require "ringd.endpoint"

local ngx = ngx
local ngx_log = ngx.log
local WARN = ngx.WARN
local sub = string.sub
local find = string.find
local tonumber = tonumber

local _M = {}

local conf = {
    agent_host = "127.0.0.1",
    agent_port = 6380,
    connect_timeout = 50, -- ms; a loopback round trip is ~30 us
    send_timeout = 50,
    read_timeout = 50,
    pool_size = 256,      -- >= per-worker concurrency, avoids churn
    idle_timeout = 60000, -- ms a pooled connection may sit idle
    log_interval = 5,     -- s between two agent-error log lines per worker
    failover_owners = 3,  -- RING.OWNERS key n: the owner + up to n-1 more
    failover_methods = false, -- see ringd.failover
}

-- Options of --lookup snapshot that mean nothing here.
local snapshot_only = {
    dict = true, poll_interval = true, dump_timeout = true, max_image = true,
}

-- RING.OWNERS' last argument as sent after the key: "\r\n$<len>\r\n<n>\r\n".
local owners_tail

function _M.configure(opts)
    for k, v in pairs(opts or {}) do
        if snapshot_only[k] then
            v = nil
        elseif conf[k] == nil then
            error("ringd.route: unknown option " .. tostring(k))
        end
        if v ~= nil then
            conf[k] = v
        end
    end
    conf.agent_port = tonumber(conf.agent_port)
    failover.configure(conf)
    local n = tostring(conf.failover_owners)
    owners_tail = "\r\n$" .. #n .. "\r\n" .. n .. "\r\n"
    conf.pool = "ringd-agent:" .. resp.address(conf.agent_host, conf.agent_port)
end

-- Rate-limited error log, per worker: the first error logs at once, later
-- ones at most every log_interval seconds with a count of suppressed lines.
local last_log = 0
local suppressed = 0
local function log_agent_error(msg)
    local now = ngx.now()
    if now - last_log >= conf.log_interval then
        if suppressed > 0 then
            ngx_log(WARN, "ringd: ", msg, " (", suppressed,
                    " similar errors suppressed)")
        else
            ngx_log(WARN, "ringd: ", msg)
        end
        last_log = now
        suppressed = 0
    else
        suppressed = suppressed + 1
    end
end

local reject = request.reject
local is_retry = failover.is_retry
local retry = failover.retry
local first_try = failover.first_try
local request_key = request.key
_M.request_key = request_key

-- One command to the agent (resp.ask_encoded), its connection back in the
-- pool after a reply: returns the value, or nil, err, kind.
local function ask_agent(bytes)
    local v, c, kind = resp.ask_encoded(conf.agent_host, conf.agent_port, conf, bytes)
    if v == nil then
        return nil, c, kind
    end
    c:release()
    return v
end

-- The two commands, encoded around the key with one concatenation (as
-- resp.encode would; the key is binary safe).
local function owners_command(key)
    return "*3\r\n$11\r\nRING.OWNERS\r\n$" .. #key .. "\r\n" .. key .. owners_tail
end
local function get_command(key)
    return "*2\r\n$3\r\nGET\r\n$" .. #key .. "\r\n" .. key .. "\r\n"
end

-- Per worker: false once the agent answered RING.OWNERS "unknown command"
-- (an agent without it, or redis-server standing in for one).
local use_owners = true

-- The key's owners: RING.OWNERS key n (owner first, then where to fail
-- over), or GET key. Returns a list of endpoints, resp.null, or nil, err, kind.
local function ask(key)
    if use_owners and conf.failover_owners > 1 then
        local v, err, kind = ask_agent(owners_command(key))
        if v == nil and kind == "server" and find(err, "unknown command", 1, true) then
            use_owners = false
            ngx_log(WARN, "ringd: agent ", resp.address(conf.agent_host, conf.agent_port),
                    " has no RING.OWNERS; asking GET, without failover")
        else
            return v, err, kind
        end
    end
    return ask_agent(get_command(key))
end

local MAX_OWNERS = 8 -- of the agent's answer, at most this many are used

-- ringd.endpoint() of the endpoints the agent names, remembered per worker
-- (a few distinct names; the cache starts over past 1024).
local endpoints, cached = {}, 0
local function endpoint_of(name)
    if type(name) ~= "string" then
        return nil
    end
    local e = endpoints[name]
    if e == nil then
        local ip, port = endpoint(name)
        e = ip and { ip, port } or false
        if cached >= 1024 then
            endpoints, cached = {}, 0
        end
        endpoints[name] = e
        cached = cached + 1
    end
    if e then
        return e[1], e[2]
    end
    return nil
end

function _M.access()
    local key = request_key()
    local v, err, kind = ask(key)
    if v == nil then
        if kind == "server" then
            log_agent_error("agent error reply for lookup: " .. err)
            return reject(503, "ringd agent error: " .. err, "agent-error")
        end
        if kind == "timeout" then
            log_agent_error("agent timed out: " .. err)
            return reject(503, "ringd agent timed out", "agent-timeout")
        end
        log_agent_error("agent unreachable: " .. err)
        return reject(503, "ringd agent unreachable", "agent-unreachable")
    end
    if v == resp.null or (type(v) == "table" and #v == 0) then
        return reject(503, "no backend", "no-backend")
    end
    local list = v
    if type(v) == "string" then
        list = { v }
    elseif type(v) ~= "table" then
        log_agent_error("unexpected agent reply type " .. type(v))
        return reject(503, "ringd agent sent a bad reply", "agent-bad-reply")
    end
    if not endpoint_of(list[1]) then
        log_agent_error("agent answered an unusable endpoint: "
                        .. sub(tostring(list[1]), 1, 64))
        return reject(503, "ringd agent sent a bad endpoint", "agent-bad-reply")
    end
    -- The agent's answer as it came: the balancer needs its first entry,
    -- and the rest only when a try fails.
    ngx.ctx.ringd_owners = list
end

-- On a retry: the routable owners the agent named, in order.
local function owners_asked()
    local list = ngx.ctx.ringd_owners
    local names, ips, ports = {}, {}, {}
    for i = 1, math.min(#list, MAX_OWNERS) do
        local ip, port = endpoint_of(list[i])
        if ip then
            local k = #names + 1
            names[k], ips[k], ports[k] = list[i], ip, port
        end
    end
    return names, ips, ports
end

-- The owner the agent named, then the next owners on a connect failure
-- (ringd.failover).
function _M.balancer()
    if is_retry() then
        return retry(owners_asked)
    end
    local list = ngx.ctx.ringd_owners
    local name = list[1]
    local ip, port = endpoint_of(name)
    local n = #list
    if n > MAX_OWNERS then
        n = MAX_OWNERS
    end
    return first_try(name, ip, port, n)
end

-- Nothing to start per worker in this mode.
function _M.init_worker()
end

local function snapshot_only_endpoint()
    return reject(404, "ringd: this endpoint needs render.sh --lookup snapshot",
                  "snapshot-only")
end
_M.owners_endpoint = snapshot_only_endpoint
_M.ring_endpoint = snapshot_only_endpoint

-- error_page 500 target (see ringd.failover).
_M.failed_page = failover.failed_page

return _M
