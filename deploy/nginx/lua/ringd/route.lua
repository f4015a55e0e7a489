-- ringd.route: pick the backend for a request by asking the local ringd
-- agent, then hand that choice to the upstream balancer. This is
-- `render.sh --lookup resp` (one RESP round trip per request); the default,
-- --lookup snapshot, is ringd.snapshot_route (the ring inside nginx).
--
-- Phases (see nginx.conf.template):
--   access_by_lua   route.access()   RESP `GET <key>` to the agent; on success
--                                    stores ip/port in ngx.ctx and sets
--                                    $ringd_backend; otherwise ends the
--                                    request with 503 and a one-line body.
--   balancer_by_lua route.balancer() ngx.balancer.set_current_peer(ip, port),
--                                    so the upstream's `keepalive` pool keeps
--                                    working (proxy_pass http://$var would not).
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

local ngx = ngx
local ngx_log = ngx.log
local WARN = ngx.WARN
local sub = string.sub
local match = string.match
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
}

-- Options of --lookup snapshot that mean nothing here.
local snapshot_only = {
    dict = true, poll_interval = true, dump_timeout = true, max_image = true,
    failover_methods = true, failover_owners = true,
}

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
    conf.pool = "ringd-agent:" .. conf.agent_host .. ":" .. conf.agent_port
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
local request_key = request.key
_M.request_key = request_key

-- One lookup: returns value or nil, err, kind.
local function ask(key)
    local c, err, kind = resp.connect(conf.agent_host, conf.agent_port, conf)
    if not c then
        return nil, err, kind
    end
    local reused = c:reused_times() > 0
    local v
    v, err, kind = c:command("GET", key)
    if v == nil and reused and (kind == "closed" or kind == "io") then
        -- The pooled connection was stale; try once on a fresh one.
        c, err, kind = resp.connect(conf.agent_host, conf.agent_port, conf)
        if not c then
            return nil, err, kind
        end
        v, err, kind = c:command("GET", key)
    end
    if v ~= nil then
        c:release()
    end
    return v, err, kind
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
    if v == resp.null then
        return reject(503, "no backend", "no-backend")
    end
    if type(v) ~= "string" then
        log_agent_error("unexpected agent reply type " .. type(v))
        return reject(503, "ringd agent sent a bad reply", "agent-bad-reply")
    end
    -- "ip:port"; IPv6 as "[addr]:port".
    local ip, port = match(v, "^%[([%x:.]+)%]:(%d+)$")
    if not ip then
        ip, port = match(v, "^([%d.]+):(%d+)$")
    end
    port = tonumber(port)
    if not ip or not port or port < 1 or port > 65535 then
        log_agent_error("agent answered an unusable endpoint: " .. sub(v, 1, 64))
        return reject(503, "ringd agent sent a bad endpoint", "agent-bad-reply")
    end
    local ctx = ngx.ctx
    ctx.ringd_ip = ip
    ctx.ringd_port = port
    ngx.var.ringd_backend = v
end

function _M.balancer()
    local balancer = require "ngx.balancer"
    local ctx = ngx.ctx
    local ok, err = balancer.set_current_peer(ctx.ringd_ip, ctx.ringd_port)
    if not ok then
        ngx_log(ngx.ERR, "ringd: set_current_peer failed: ", err)
        return ngx.exit(500)
    end
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
_M.failed_page = require("ringd.failover").failed_page

return _M
