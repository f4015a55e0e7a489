-- ringd.resp: a minimal RESP2 (Redis protocol) client over ngx.socket.tcp.
--
-- Just enough to ask a ringd agent `GET <key>` from nginx, written for stock
-- Debian nginx + libnginx-mod-http-lua (Debian's lua-nginx-redis would pull
-- in nginx-extras).
--
-- Contract:
--   * Commands are always sent as RESP arrays of bulk strings, so keys are
--     binary safe (spaces, CR/LF, any byte).
--   * Every call returns either (value) or (nil, err, kind):
--       value  string for a bulk/simple string, number for an integer,
--              resp.null for a nil bulk ($-1), a table for an array;
--       err    a short human-readable message;
--       kind   "connect" | "timeout" | "closed" | "io" | "protocol" |
--              "server" (a -ERR reply).
--   * A connection that saw any error is closed by this module and must not
--     be reused: after an error the stream position is unknown and the next
--     reader could get a stale reply. Only after a complete reply does
--     `release` put the socket back into the cosocket keepalive pool.
--
-- Usage:
--   local resp = require "ringd.resp"
--   local c, err, kind = resp.connect(host, port, opts)
--   local v, err, kind = c:command("GET", key)
--   c:release()           -- back to the pool (only if no error happened)

local tcp = ngx.socket.tcp
local tonumber = tonumber
local concat = table.concat
local sub = string.sub
local byte = string.byte
local find = string.find

local _M = { _VERSION = "0.1" }

-- Sentinel for a RESP nil ($-1 / *-1), distinct from Lua nil (= error).
_M.null = setmetatable({}, { __tostring = function() return "null" end })

-- Bounds on what we accept from the server: a ring answer is "ip:port".
-- A connection may raise the bulk limit (opts.max_bulk): RING.DUMP's image
-- is one bulk string of up to ~50 MB.
local MAX_BULK = 64 * 1024
local MAX_ARRAY = 1024
local MAX_DEPTH = 4

local Conn = {}
Conn.__index = Conn

local function classify(err)
    if err == "timeout" then
        return "timeout"
    elseif err == "closed" then
        return "closed"
    end
    return "io"
end

-- "host:port", or the socket path for a Unix socket (host "unix:/path",
-- port 0): for log lines and pool names.
function _M.address(host, port)
    if port == 0 then
        return host
    end
    return host .. ":" .. port
end

-- host: an IP, or "unix:/path" with port 0 (the agent's --resp-unix socket:
-- no TCP on either side, about half the agent's CPU per command).
-- opts: connect_timeout, send_timeout, read_timeout (ms),
--       pool_size, idle_timeout (ms), pool (optional pool name),
--       max_bulk (bytes, default 64 KiB)
function _M.connect(host, port, opts)
    opts = opts or {}
    local sock, err = tcp()
    if not sock then
        return nil, "socket: " .. tostring(err), "io"
    end
    sock:settimeouts(opts.connect_timeout or 50, opts.send_timeout or 50,
                     opts.read_timeout or 50)
    local ok
    local pool = opts.pool_options -- made once per opts table
    if not pool then
        pool = { pool = opts.pool, pool_size = opts.pool_size }
        opts.pool_options = pool
    end
    if port == 0 then
        ok, err = sock:connect(host, pool)
    else
        ok, err = sock:connect(host, port, pool)
    end
    if not ok then
        sock:close()
        local kind = (err == "timeout") and "timeout" or "connect"
        return nil, "connect " .. _M.address(host, port) .. ": " .. tostring(err), kind
    end
    return setmetatable({
        sock = sock,
        broken = false,
        idle_timeout = opts.idle_timeout or 60000,
        pool_size = opts.pool_size or 128,
        max_bulk = opts.max_bulk or MAX_BULK,
        buf = "",  -- bytes read but not parsed yet: buf from pos on
        pos = 1,
    }, Conn)
end

-- How many times the underlying socket came out of the keepalive pool.
function Conn:reused_times()
    local n = self.sock:getreusedtimes()
    return n or 0
end

-- Changes the socket's timeouts (ms) for the next calls, e.g. a longer read
-- timeout for one large reply.
function Conn:settimeouts(connect_ms, send_ms, read_ms)
    self.sock:settimeouts(connect_ms, send_ms, read_ms)
end

function Conn:fail(msg, kind)
    self.broken = true
    self.sock:close()
    return nil, msg, kind
end

local function encode(args)
    local n = #args
    local out = { "*", n, "\r\n" }
    for i = 1, n do
        local a = tostring(args[i])
        out[#out + 1] = "$"
        out[#out + 1] = #a
        out[#out + 1] = "\r\n"
        out[#out + 1] = a
        out[#out + 1] = "\r\n"
    end
    return concat(out)
end
_M.encode = encode

-- Replies are read with receiveany() into self.buf and parsed there: one
-- read per reply in the common case (a lookup's whole answer arrives at
-- once), not one receive() per line. A bulk string larger than what was
-- read (RING.DUMP's image) takes its remaining bytes in one receive(n).
local READ_CHUNK = 4096
local MAX_LINE = 64 -- a type byte, a length and CRLF; a -ERR line may be longer
local MAX_ERROR_LINE = 1024

-- Reads more bytes into the buffer. Returns true or nil, err, kind.
function Conn:fill()
    local data, err = self.sock:receiveany(READ_CHUNK)
    if not data then
        return nil, "read: " .. tostring(err), classify(err)
    end
    local pos = self.pos
    if pos > #self.buf then
        self.buf = data
    else
        self.buf = sub(self.buf, pos) .. data
    end
    self.pos = 1
    return true
end

-- The next line without its CRLF. Returns line or nil, err, kind.
function Conn:line()
    while true do
        local buf, pos = self.buf, self.pos
        local cr = find(buf, "\r\n", pos, true)
        if cr then
            self.pos = cr + 2
            return sub(buf, pos, cr - 1)
        end
        local limit = (byte(buf, pos) == 45) and MAX_ERROR_LINE or MAX_LINE
        if #buf - pos + 1 > limit then
            return nil, "reply line longer than " .. limit .. " bytes", "protocol"
        end
        local ok, err, kind = self:fill()
        if not ok then
            return nil, err, kind
        end
    end
end

-- The next n bytes and a CRLF. Returns the n bytes or nil, err, kind.
function Conn:bulk(n)
    local buf, pos = self.buf, self.pos
    local have = #buf - pos + 1
    local data
    if have >= n + 2 then
        -- The common case: all of it in the buffer.
        local cr, lf = byte(buf, pos + n, pos + n + 1)
        if cr ~= 13 or lf ~= 10 then
            return nil, "bulk string not terminated by CRLF", "protocol"
        end
        self.pos = pos + n + 2
        return sub(buf, pos, pos + n - 1)
    else
        local rest, err = self.sock:receive(n + 2 - have)
        if not rest then
            return nil, "read: " .. tostring(err), classify(err)
        end
        data = sub(buf, pos) .. rest
        self.buf, self.pos = "", 1
    end
    if sub(data, n + 1) ~= "\r\n" then
        return nil, "bulk string not terminated by CRLF", "protocol"
    end
    return sub(data, 1, n)
end

-- Reads one reply. Returns value or nil, err, kind (does not close).
local function read_reply(c, depth)
    if depth > MAX_DEPTH then
        return nil, "reply nested too deep", "protocol"
    end
    local line, err, kind = c:line()
    if not line then
        return nil, err, kind
    end
    local t = byte(line, 1)
    local rest = sub(line, 2)
    if t == 36 then -- '$' bulk string
        local n = tonumber(rest)
        if n == nil or n < -1 or n > c.max_bulk or n ~= n - n % 1 then
            return nil, "bad bulk length: " .. sub(line, 1, 40), "protocol"
        end
        if n == -1 then
            return _M.null
        end
        return c:bulk(n)
    elseif t == 43 then -- '+' simple string
        return rest
    elseif t == 45 then -- '-' error
        return nil, rest, "server"
    elseif t == 58 then -- ':' integer
        local n = tonumber(rest)
        if n == nil then
            return nil, "bad integer: " .. sub(line, 1, 40), "protocol"
        end
        return n
    elseif t == 42 then -- '*' array
        local n = tonumber(rest)
        if n == nil or n < -1 or n > MAX_ARRAY then
            return nil, "bad array length: " .. sub(line, 1, 40), "protocol"
        end
        if n == -1 then
            return _M.null
        end
        local items = {}
        for i = 1, n do
            local v, e, k = read_reply(c, depth + 1)
            if v == nil then
                return nil, e, k
            end
            items[i] = v
        end
        return items
    end
    return nil, "unexpected reply type: " .. sub(line, 1, 40), "protocol"
end

-- Sends one command, already encoded (encode()), and reads its reply. Any
-- failure, including a -ERR reply, closes the connection (see the contract
-- above).
function Conn:request(bytes)
    if self.broken then
        return nil, "connection already failed", "io"
    end
    local sent, err = self.sock:send(bytes)
    if not sent then
        return self:fail("send: " .. tostring(err), classify(err))
    end
    local v, e, kind = read_reply(self, 1)
    if v == nil then
        return self:fail(e, kind)
    end
    if self.pos <= #self.buf then
        -- More than one reply came for one command: the stream is not ours.
        return self:fail("bytes after the reply", "protocol")
    end
    return v
end

-- Sends one command (its arguments) and reads its reply.
function Conn:command(...)
    return self:request(encode({ ... }))
end

-- Puts the connection back into the keepalive pool; closes it instead if it
-- ever failed. Safe to call more than once.
function Conn:release()
    if self.broken then
        return
    end
    self.broken = true -- no use after release
    local ok = self.sock:setkeepalive(self.idle_timeout, self.pool_size)
    if not ok then
        self.sock:close()
    end
end

function Conn:close()
    self.broken = true
    self.sock:close()
end

-- One command, already encoded, on a pooled connection to host:port. A
-- pooled connection that turns out dead (the agent restarted, or closed it
-- while idle) is retried once on a fresh one. Returns the value and the
-- connection (the caller releases or closes it), or nil, err, kind.
function _M.ask_encoded(host, port, opts, bytes)
    local c, err, kind = _M.connect(host, port, opts)
    if not c then
        return nil, err, kind
    end
    local reused = c:reused_times() > 0
    local v
    v, err, kind = c:request(bytes)
    if v == nil and reused and (kind == "closed" or kind == "io") then
        c, err, kind = _M.connect(host, port, opts)
        if not c then
            return nil, err, kind
        end
        v, err, kind = c:request(bytes)
    end
    if v == nil then
        return nil, err, kind
    end
    return v, c
end

-- The same with the command's arguments.
function _M.ask(host, port, opts, ...)
    return _M.ask_encoded(host, port, opts, encode({ ... }))
end

return _M
