-- ringd.snapshot_route: routing with the ring held in each nginx worker
-- (render.sh --lookup snapshot, the default). No round trip per request:
-- ringd.sync keeps the agent's ring current, ringd.snapshot finds owners.
--
--   init_by_lua          configure(opts)   agent address, timings, dict name
--   init_worker_by_lua   init_worker()     first ring from the shared dict,
--                                          then the poll timer
--   balancer_by_lua      balancer()        the key's owner, then failover
--                                          (ringd.failover); $ringd_backend,
--                                          $ringd_ring (checksum), and
--                                          $ringd_stale = 1 when the ring may
--                                          be older than the agent's
--                        failed_page()     error_page target of a request the
--                                          balancer ended
--   content_by_lua       owners_endpoint() /ringd/owners: the owners of many
--                                          keys, one line each
--                        ring_endpoint()   /ringd/ring: the ring in use, per
--                                          worker, as JSON
--
-- The key is the request path as the client sent it ($request_uri up to the
-- first '?'; ringd.request), hashed in place.
--
-- No ring yet (the agent never answered since nginx started and the shared
-- dict holds none): 503 "ringd: no ring yet ...". An empty ring: 503 "no
-- backend", as in RESP mode. Both come through failed_page(), so nginx
-- closes the client connection after them.

local sync = require "ringd.sync"
local request = require "ringd.request"
local failover = require "ringd.failover"

local ngx = ngx
local concat = table.concat
local find = string.find
local sub = string.sub
local reject = request.reject
local key_length = request.key_length
local is_retry = failover.is_retry
local retry = failover.retry
local first_try = failover.first_try
local fail = failover.fail

local _M = {}

local conf = {
    owners = 3,                   -- the owner + up to 2 failover owners
    max_keys = 200000,            -- per /ringd/owners request
}

function _M.configure(opts)
    sync.configure(opts)
    failover.configure(opts)
    if opts.failover_owners then
        conf.owners = opts.failover_owners
    end
end

function _M.init_worker()
    sync.init_worker()
end

local function no_ring_message()
    return "ringd: no ring yet (agent " .. sync.agent() .. " not reached)"
end

local function no_ring()
    return reject(503, no_ring_message(), "no-ring")
end

-- On a retry: the key's owners in ring order, routable ones only, from the
-- ring in use now.
local owners_buf = {}
local function owners_now()
    local names, ips, ports = {}, {}, {}
    local ring = sync.ring()
    if ring then
        local uri = ngx.var.request_uri
        local n = ring:owners(uri, conf.owners, owners_buf, key_length(uri))
        for i = 1, n do
            local node = owners_buf[i]
            if ring.ips[node] then
                local k = #names + 1
                names[k], ips[k], ports[k] = ring.names[node], ring.ips[node], ring.ports[node]
            end
        end
    end
    return names, ips, ports
end

-- balancer_by_lua: the whole lookup happens here, with no access phase (an
-- access_by_lua handler costs a coroutine per request). The first try
-- looks up the owner alone; retries compute the failover owners then.
function _M.balancer()
    if is_retry() then
        return retry(owners_now)
    end
    local ring = sync.ring()
    if not ring then
        return fail(503, "no-ring", no_ring_message())
    end
    local var = ngx.var
    local uri = var.request_uri
    local len = key_length(uri)
    local node = ring:owner(uri, len)
    if not node then
        return fail(503, "no-backend", "no backend")
    end
    var.ringd_ring = ring.checksum
    if sync.stale() then
        var.ringd_stale = "1"
    end
    local ip = ring.ips[node]
    if not ip then
        -- The owner's endpoint is not "ip:port" (the agent sends nothing
        -- else; a defensive path): the first routable owner.
        local names, ips, ports = owners_now()
        if not names[1] then
            return fail(503, "agent-bad-reply", "ringd agent sent a bad endpoint")
        end
        return first_try(names[1], ips[1], ports[1], #names)
    end
    local owners = ring.node_count
    if owners > conf.owners then
        owners = conf.owners
    end
    return first_try(ring.names[node], ip, ring.ports[node], owners)
end

_M.failed_page = failover.failed_page

-- A config rendered before the lookup moved into the balancer still has
-- access_by_lua calling this: nothing to do (re-render to drop the phase).
function _M.access()
end

local function set_ring_headers(ring)
    ngx.header["X-Ringd-Ring"] = ring.checksum
    if sync.stale() then
        ngx.header["X-Ringd-Stale"] = "1"
    end
end

-- POST /ringd/owners, body: keys one per line (a final newline is
-- optional). Answer: one line per key, its owners in failover order
-- separated by spaces ("-" on an empty ring). GET /ringd/owners?key=K
-- answers for one key (K URL-decoded).
function _M.owners_endpoint()
    local ring = sync.ring()
    if not ring then
        return no_ring()
    end
    local body
    if ngx.req.get_method() == "POST" then
        ngx.req.read_body()
        body = ngx.req.get_body_data()
        if not body then
            local file = ngx.req.get_body_file()
            if file then
                return reject(413, "body larger than client_body_buffer_size", "too-large")
            end
            body = ""
        end
    else
        local key = ngx.var.arg_key
        if not key then
            return reject(400, "POST keys one per line, or GET ?key=K", "bad-request")
        end
        body = ngx.unescape_uri(key)
    end
    local names = ring.names
    local owners = {}
    local out, m = {}, 0
    local pos, len = 1, #body
    while pos <= len do
        local nl = find(body, "\n", pos, true) or (len + 1)
        local n = ring:owners(sub(body, pos, nl - 1), conf.owners, owners)
        m = m + 1
        if m > conf.max_keys then
            return reject(413, "more than " .. conf.max_keys .. " keys", "too-many-keys")
        end
        if n == 0 then
            out[m] = "-\n"
        elseif n == 1 then
            out[m] = names[owners[1]] .. "\n"
        elseif n == 2 then
            out[m] = names[owners[1]] .. " " .. names[owners[2]] .. "\n"
        else
            local line = names[owners[1]]
            for i = 2, n do
                line = line .. " " .. names[owners[i]]
            end
            out[m] = line .. "\n"
        end
        pos = nl + 1
    end
    ngx.header["Content-Type"] = "text/plain"
    set_ring_headers(ring)
    ngx.print(out)
end

-- GET /ringd/ring: {"checksum":..., "mode":..., "nodes":..., "entries":...,
-- "stale": bool, "agent": "ip:port", "workers": {"0": "<checksum> <epoch>"}}
function _M.ring_endpoint()
    local ring = sync.ring()
    local workers = {}
    for id = 0, ngx.worker.count() - 1 do
        local v = sync.applied(id)
        workers[#workers + 1] = '"' .. id .. '": ' .. (v and ('"' .. v .. '"') or "null")
    end
    local fields = {
        '"agent": "' .. sync.agent() .. '"',
        '"stale": ' .. tostring(sync.stale()),
        '"workers": {' .. concat(workers, ", ") .. "}",
    }
    if ring then
        fields[#fields + 1] = '"checksum": "' .. ring.checksum .. '"'
        fields[#fields + 1] = '"mode": "' .. ring.mode_name .. '"'
        fields[#fields + 1] = '"nodes": ' .. ring.node_count
        fields[#fields + 1] = '"entries": ' .. ring.entry_count
        set_ring_headers(ring)
    else
        fields[#fields + 1] = '"checksum": null'
    end
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say("{", concat(fields, ", "), "}")
end

return _M
