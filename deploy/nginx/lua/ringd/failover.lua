-- ringd.failover: the upstream balancer that tries the key's next owners
-- when the owner cannot be connected to.
--
-- The access phase leaves in ngx.ctx:
--   ringd_ring    a ring with names/ips/ports tables (ringd.snapshot)
--   ringd_owners  node indices: the owner, then the next distinct owners
--   ringd_count   how many of them to use
--
-- balancer():
--   first call   the owner; for an idempotent method (GET HEAD OPTIONS PUT
--                DELETE TRACE by default) ngx.balancer.set_more_tries() allows
--                one more try per further owner.
--   next calls   nginx calls again after a failure it may retry
--                (proxy_next_upstream error timeout). The request never
--                reached the peer (no connect time, or 0 bytes sent:
--                refused, connect timeout) -> the next owner. It reached the
--                peer, which closed or reset the connection before sending a
--                byte -> the same peer again (a keepalive connection the peer
--                had closed: when a backend dies, several pooled connections
--                to it can fail in a row before a fresh connect is refused
--                and the next owner is tried), up to MAX_SAME_PEER times. A
--                timeout, or an error after bytes came back -> the request
--                ends 502/504 through failed_page(), without another owner.
--   $ringd_backend names the peer of the latest try: the backend that
--   answered, or the last one that failed.
--
-- A non-idempotent method (POST, PATCH, ...) gets no more tries: a dead
-- owner answers 502. nginx itself calls again only to replace a cached
-- keepalive connection that turned out closed; that goes to the same peer.

local balancer = require "ngx.balancer"
local request = require "ringd.request"

local ngx = ngx
local match = string.match
local tonumber = tonumber

local _M = {}

local MAX_SAME_PEER = 32 -- pooled connections to one peer tried in a row

local idempotent = {
    GET = true, HEAD = true, OPTIONS = true, PUT = true, DELETE = true, TRACE = true,
}

-- opts.failover_methods: list of methods that may go to another owner.
function _M.configure(opts)
    if opts.failover_methods then
        idempotent = {}
        for _, m in ipairs(opts.failover_methods) do
            idempotent[m] = true
        end
    end
end

-- The last entry of $upstream_connect_time / $upstream_bytes_sent, e.g.
-- "0.001, - : " -> "-" (" : " ends the entry of the try being set up).
local function last_entry(v)
    return v and match(v, "([^,: ]+)[,: ]*$")
end

local function reached_peer()
    local var = ngx.var
    return last_entry(var.upstream_connect_time) ~= "-"
           and last_entry(var.upstream_bytes_sent) ~= "0"
end

local function nothing_received()
    return last_entry(ngx.var.upstream_bytes_received) == "0"
end

local function fail(code)
    -- ngx.exit() with a status is not taken from a balancer; NGX_ERROR is
    -- (nginx answers 500). error_page 500 sends that to failed_page(),
    -- which answers $ringd_fail.
    ngx.var.ringd_fail = code or 502
    return ngx.exit(ngx.ERROR)
end

function _M.balancer()
    local ctx = ngx.ctx
    local at = ctx.ringd_at
    local method = ngx.req.get_method()
    if not at then
        at = 1
        if ctx.ringd_count > 1 and idempotent[method] then
            balancer.set_more_tries(ctx.ringd_count - 1)
        end
    elseif idempotent[method] then
        local _, code = balancer.get_last_failure()
        if not reached_peer() then
            at = at + 1
            if at > ctx.ringd_count then
                return fail(code)
            end
        elseif code ~= 504 and (ctx.ringd_same or 0) < MAX_SAME_PEER
               and nothing_received() then
            ctx.ringd_same = (ctx.ringd_same or 0) + 1
            balancer.set_more_tries(1) -- keep the other owners' tries
        else
            return fail(code)
        end
    end
    ctx.ringd_at = at
    local ring = ctx.ringd_ring
    local node = ctx.ringd_owners[at]
    ngx.var.ringd_backend = ring.names[node]
    local ok, err = balancer.set_current_peer(ring.ips[node], ring.ports[node])
    if not ok then
        ngx.log(ngx.ERR, "ringd: set_current_peer failed: ", err)
        return fail(502)
    end
end

-- content_by_lua of the location error_page 500 points at.
function _M.failed_page()
    local var = ngx.var
    local code = tonumber(var.ringd_fail)
    local backend = var.ringd_backend
    if code == 504 then
        return request.reject(504, "backend " .. backend .. " timed out", "backend-timeout")
    elseif code == 502 then
        return request.reject(502, "backend " .. backend .. " unreachable",
                              "backend-unreachable")
    end
    return request.reject(500, "internal error", "internal")
end

return _M
