-- ringd.snapshot_route: routing with the ring held in each nginx worker
-- (render.sh --lookup snapshot, the default). No round trip per request:
-- ringd.sync keeps the agent's ring current, ringd.snapshot finds owners.
--
--   init_by_lua          configure(opts)   agent address, timings, dict name
--   init_worker_by_lua   init_worker()     first ring from the shared dict,
--                                          then the poll timer
--   access_by_lua        access()          owners of the key into ngx.ctx for
--                                          ringd.failover; $ringd_backend,
--                                          $ringd_ring (checksum), and
--                                          $ringd_stale = 1 when the ring may
--                                          be older than the agent's
--   content_by_lua       owners_endpoint() /ringd/owners: the owners of many
--                                          keys, one line each
--                        ring_endpoint()   /ringd/ring: the ring in use, per
--                                          worker, as JSON
--
-- No ring yet (the agent never answered since nginx started and the shared
-- dict holds none): 503 "ringd: no ring yet ...". An empty ring: 503 "no
-- backend", as in RESP mode.

local sync = require "ringd.sync"
local request = require "ringd.request"
local failover = require "ringd.failover"

local ngx = ngx
local concat = table.concat
local find = string.find
local sub = string.sub
local reject = request.reject

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

local function no_ring()
    return reject(503, "ringd: no ring yet (agent " .. sync.agent() .. " not reached)",
                  "no-ring")
end

function _M.access()
    local ring = sync.ring()
    if not ring then
        return no_ring()
    end
    local var = ngx.var
    var.ringd_ring = ring.checksum
    if sync.stale() then
        var.ringd_stale = "1"
    end
    local owners = {}
    local n = ring:owners(request.key(), conf.owners, owners)
    if n == 0 then
        return reject(503, "no backend", "no-backend")
    end
    -- Only routable endpoints ("ip:port"); the agent sends nothing else.
    local ips, k = ring.ips, 0
    for i = 1, n do
        if ips[owners[i]] then
            k = k + 1
            owners[k] = owners[i]
        end
    end
    if k == 0 then
        return reject(503, "ringd agent sent a bad endpoint", "agent-bad-reply")
    end
    local ctx = ngx.ctx
    ctx.ringd_ring = ring
    ctx.ringd_owners = owners
    ctx.ringd_count = k
    var.ringd_backend = ring.names[owners[1]]
end

_M.balancer = failover.balancer
_M.failed_page = failover.failed_page

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
