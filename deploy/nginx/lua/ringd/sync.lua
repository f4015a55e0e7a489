-- ringd.sync: keeps each nginx worker's copy of the agent's ring current.
--
-- Per worker, a timer (ngx.timer.every, poll_interval) asks the agent
-- `RING.CHECKSUM` over a pooled keepalive connection (~30 us on loopback).
-- When the checksum differs from the ring in use, the worker takes the new
-- image from the shared dict if another worker already fetched it, else
-- fetches `RING.DUMP`, checks it (ringd.snapshot.parse) and swaps it in. So a
-- ring the agent publishes is in use within one poll interval plus a fetch.
--
-- The last good image also sits in a lua_shared_dict (key "image"): a worker
-- that starts (nginx start, reload, a crashed worker) routes with it at once.
--
-- When the agent cannot be reached (refused, timed out, bad reply), workers
-- keep the ring they have and stale() turns true; the first worker to notice
-- logs one line, and one line again when the agent answers (the shared
-- dict's "stale" key makes it one line per nginx, not per worker). An image
-- that cannot be read (unknown format version or mode, bad sizes) is refused
-- with one error line per checksum; the last good ring stays in use, stale()
-- is true, and the same checksum is not fetched again.
--
-- Shared dict keys: image, stale, back:<t>, refused:<checksum>,
-- applied:<worker id> = "<checksum> <epoch seconds>" (when that worker
-- started using the ring; /ringd/ring shows them).

local resp = require "ringd.resp"
local snapshot = require "ringd.snapshot"

local ngx = ngx
local ngx_log = ngx.log
local WARN = ngx.WARN
local ERR = ngx.ERR

local _M = {}

local conf = {
    agent_host = "127.0.0.1",
    agent_port = 6380,
    dict = "ringd",
    poll_interval = 0.05,  -- s between two RING.CHECKSUM polls, per worker
    connect_timeout = 50,  -- ms
    send_timeout = 50,     -- ms
    read_timeout = 50,     -- ms, RING.CHECKSUM
    dump_timeout = 2000,   -- ms, reading RING.DUMP (up to max_image bytes)
    max_image = 64 * 1024 * 1024,
    idle_timeout = 60000,  -- ms a pooled agent connection may sit idle
}

local state = {
    ring = nil,        -- the ringd.snapshot ring in use
    unreachable = false, -- the last poll did not reach the agent
    refused = nil,     -- checksum of the agent's ring when its image was refused
    busy = false,      -- a poll is running
}

local dict

function _M.configure(opts)
    for k, v in pairs(opts) do
        if conf[k] ~= nil then
            conf[k] = v
        end
    end
    conf.agent_port = tonumber(conf.agent_port)
    conf.pool = "ringd-sync:" .. resp.address(conf.agent_host, conf.agent_port)
    conf.pool_size = 2
    conf.max_bulk = conf.max_image
end

function _M.agent()
    return resp.address(conf.agent_host, conf.agent_port)
end

function _M.ring()
    return state.ring
end

-- True when the ring in use may be older than the agent's.
function _M.stale()
    return state.unreachable or state.refused ~= nil
end

local function describe(ring)
    if not ring then
        return "none"
    end
    return ring.checksum .. " (" .. ring.mode_name .. ", " .. ring.node_count .. " nodes)"
end

local function install(ring)
    state.ring = ring
    state.refused = nil
    ngx.update_time()
    dict:set("applied:" .. ngx.worker.id(), ring.checksum .. " " .. ngx.now())
end

-- what: "unreachable" (I/O errors) or what the agent did wrong.
local function went_unreachable(err, what)
    if state.unreachable then
        return
    end
    state.unreachable = true
    if dict:add("stale", ngx.now()) then
        if state.ring then
            ngx_log(WARN, "ringd: agent ", _M.agent(), " ", what or "unreachable", " (",
                    err, "): routing on the last ring ", describe(state.ring),
                    " and marking responses X-Ringd-Stale: 1")
        else
            ngx_log(WARN, "ringd: agent ", _M.agent(), " ", what or "unreachable", " (",
                    err, "): no ring yet, answering 503")
        end
    end
end

-- The agent answered. The worker that finds the shared "stale" mark clears
-- it and logs one line; a worker that was not cut off itself clears only a
-- mark older than a second (its writer went away, e.g. in a reload), so
-- that a poll answered just before the agent stopped logs nothing.
local function reached()
    local was = state.unreachable
    state.unreachable = false
    local since = dict:get("stale")
    if not since or not (was or ngx.now() - since > 1) then
        return
    end
    if dict:add("back:" .. since, true, 60) then
        dict:delete("stale")
        ngx.update_time()
        ngx_log(WARN, "ringd: agent ", _M.agent(), " answers again after ",
                string.format("%.1f", ngx.now() - since), " s")
    end
end

local function refuse(checksum, err)
    state.refused = checksum
    if dict:add("refused:" .. checksum, true, 3600) then
        ngx_log(ERR, "ringd: refusing the ring image ", checksum, " from agent ",
                _M.agent(), ": ", err, "; routing on the last good ring ",
                describe(state.ring))
    end
end

-- One command to the agent (resp.ask): the value and the connection, or
-- nil, err, kind.
local function ask(...)
    return resp.ask(conf.agent_host, conf.agent_port, conf, ...)
end

local function poll_once()
    local checksum, c, kind = ask("RING.CHECKSUM")
    if checksum == nil then
        if kind == "server" then
            return went_unreachable(c, "answers RING.CHECKSUM with an error")
        end
        return went_unreachable(c)
    end
    if type(checksum) ~= "string" then
        c:close()
        return went_unreachable("a " .. type(checksum), "answers RING.CHECKSUM oddly")
    end
    local ring = state.ring
    if ring and ring.checksum == checksum then
        state.refused = nil
        c:release()
        return reached()
    end
    if state.refused == checksum then
        c:release()
        return reached()
    end

    -- Another worker may have fetched this ring already.
    local image = dict:get("image")
    if image and snapshot.image_checksum(image) == checksum then
        c:release()
        reached()
        local parsed = snapshot.parse(image)
        if parsed then
            return install(parsed)
        end
    end

    c:settimeouts(conf.connect_timeout, conf.send_timeout, conf.dump_timeout)
    local err
    image, err, kind = c:command("RING.DUMP")
    if image == nil then
        if kind == "server" then
            -- An agent without RING.DUMP: nothing to route with from it.
            reached()
            return refuse(checksum, "RING.DUMP failed: " .. err)
        end
        return went_unreachable("RING.DUMP: " .. err)
    end
    c:release()
    reached()
    if type(image) ~= "string" then
        return refuse(checksum, "RING.DUMP answered a " .. type(image))
    end
    local parsed
    parsed, err = snapshot.parse(image)
    if not parsed then
        return refuse(checksum, err)
    end
    install(parsed)
    local ok, serr = dict:set("image", image)
    if not ok and dict:add("image-too-big:" .. parsed.checksum, true, 3600) then
        ngx_log(WARN, "ringd: ring image ", parsed.checksum, " (", #image,
                " bytes) not kept in lua_shared_dict ", conf.dict, ": ", serr,
                "; new workers wait for their first poll")
    end
end

local last_error_log = 0

local function poll(premature)
    if premature or state.busy then
        return
    end
    state.busy = true
    local ok, err = pcall(poll_once)
    state.busy = false
    if not ok and ngx.now() - last_error_log >= 10 then
        last_error_log = ngx.now()
        ngx_log(ERR, "ringd: ring poll failed (logged at most every 10 s): ", err)
    end
end

-- init_worker_by_lua: route with the shared dict's image at once, poll now
-- and then every poll_interval.
function _M.init_worker()
    dict = ngx.shared[conf.dict]
    if not dict then
        error("ringd.sync: lua_shared_dict " .. conf.dict .. " is not declared")
    end
    local image = dict:get("image")
    if image then
        local ring = snapshot.parse(image)
        if ring then
            install(ring)
        end
    end
    local ok, err = ngx.timer.at(0, poll)
    if ok then
        ok, err = ngx.timer.every(conf.poll_interval, poll)
    end
    if not ok then
        ngx_log(ERR, "ringd: cannot start the ring poll timer: ", err)
    end
end

-- For /ringd/ring: what each worker uses ("<checksum> <epoch>" or nil).
function _M.applied(worker_id)
    return dict:get("applied:" .. worker_id)
end

return _M
