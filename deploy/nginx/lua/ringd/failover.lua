-- ringd.failover: the upstream balancer's side of routing. The first try
-- goes to the key's owner; when the owner cannot be connected to, the next
-- tries go to the key's next owners in ring order.
--
--   first_try(name, ip, port, owners)
--                the owner (from the lookup mode): sets $ringd_backend and
--                the peer; for an idempotent method (GET HEAD OPTIONS PUT
--                DELETE TRACE by default) ngx.balancer.set_more_tries() allows
--                one more try per further owner (owners = how many the key
--                has, the owner included).
--   retry(owners_of)
--                nginx calls the balancer again after a failure it may retry
--                (proxy_next_upstream error timeout). On the first retry,
--                owners_of() gives the key's owners in order (names, ips,
--                ports: lists), computed only now, so the first try pays for
--                the owner alone. The request never reached the peer (no
--                connect time, or 0 bytes sent: refused, connect timeout) ->
--                the next owner not tried yet. It reached the peer, which
--                closed or reset the connection before sending a byte -> the
--                same peer again (a keepalive connection the peer had closed:
--                when a backend dies, several pooled connections to it can
--                fail in a row before a fresh connect is refused and the next
--                owner is tried), up to MAX_SAME_PEER times. A timeout, or an
--                error after bytes came back -> the request ends 502/504
--                through failed_page(), without another owner.
--   fail(status [, code, message])
--                ends the request from the balancer (nginx takes no status
--                from there: it answers 500, and error_page 500 sends that to
--                failed_page(), which answers status with the message and
--                X-Ringd-Error: code; 502 and 504 need neither).
--   $ringd_backend names the peer of the latest try: the backend that
--   answered, or the last one that failed.
--
-- A non-idempotent method (POST, PATCH, ...) gets no more tries: a dead
-- owner answers 502. nginx itself calls again only to replace a cached
-- keepalive connection that turned out closed; that goes to the same peer.

local balancer = require "ngx.balancer"
local request = require "ringd.request"
local endpoint = require "ringd.endpoint"

local ngx = ngx
local match = string.match
local tonumber = tonumber
local get_method = ngx.req.get_method
local get_last_failure = balancer.get_last_failure
local set_current_peer = balancer.set_current_peer
local set_more_tries = balancer.set_more_tries

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

-- True when the balancer is called again after a failed try.
function _M.is_retry()
    return get_last_failure() ~= nil
end

function _M.fail(status, code, message)
    -- ngx.exit() with a status is not taken from a balancer; NGX_ERROR is.
    ngx.var.ringd_fail = status .. " " .. (code or "-") .. " " .. (message or "")
    return ngx.exit(ngx.ERROR)
end
local fail = _M.fail

local function peer(name, ip, port)
    ngx.var.ringd_backend = name
    local ok, err = set_current_peer(ip, port)
    if not ok then
        ngx.log(ngx.ERR, "ringd: set_current_peer failed: ", err)
        return fail(502)
    end
end

function _M.first_try(name, ip, port, owners)
    if owners > 1 and idempotent[get_method()] then
        set_more_tries(owners - 1)
    end
    return peer(name, ip, port)
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

-- Per request, from the first retry on (ngx.ctx.ringd): the owners, which
-- of them were tried, and the peer of the latest try.
local function retry_state(owners_of)
    local ctx = ngx.ctx
    local st = ctx.ringd
    if st then
        return st
    end
    local tried_name = ngx.var.ringd_backend
    local names, ips, ports = owners_of()
    local ip, port = endpoint(tried_name)
    st = {
        names = names, ips = ips, ports = ports,
        tried = { [tried_name] = true },
        name = tried_name, ip = ip, port = port,
        same = 0,
    }
    ctx.ringd = st
    return st
end

function _M.retry(owners_of)
    local _, code = get_last_failure()
    local st = retry_state(owners_of)
    if not idempotent[get_method()] then
        -- nginx replaces a closed keepalive connection: the same peer.
        return peer(st.name, st.ip, st.port)
    end
    if not reached_peer() then
        -- The next owner in ring order that was not tried yet. (The ring may
        -- have changed since the first try: the owners are those of now.)
        local names = st.names
        for i = 1, #names do
            local name = names[i]
            if not st.tried[name] then
                st.tried[name] = true
                st.name, st.ip, st.port = name, st.ips[i], st.ports[i]
                return peer(st.name, st.ip, st.port)
            end
        end
        return fail(code == 504 and 504 or 502)
    end
    if code ~= 504 and st.same < MAX_SAME_PEER and nothing_received() then
        st.same = st.same + 1
        set_more_tries(1) -- keep the other owners' tries
        return peer(st.name, st.ip, st.port)
    end
    return fail(code == 504 and 504 or 502)
end

local messages = {
    [502] = { "backend-unreachable", " unreachable" },
    [504] = { "backend-timeout", " timed out" },
}

-- content_by_lua of the location error_page 500 points at.
function _M.failed_page()
    local var = ngx.var
    local status, code, message = match(var.ringd_fail or "", "^(%d+) (%S+) ?(.*)$")
    status = tonumber(status)
    if not status then
        return request.reject(500, "internal error", "internal")
    end
    local m = messages[status]
    if m and code == "-" then
        code, message = m[1], "backend " .. (var.ringd_backend or "") .. m[2]
    end
    return request.reject(status, message, code)
end

return _M
