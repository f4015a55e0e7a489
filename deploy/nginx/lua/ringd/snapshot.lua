-- ringd.snapshot: the agent's ring image (RESP RING.DUMP) read in-process.
--
-- The image format and the lookup rule of each ring mode are those of
-- ring/dump.h in the ringd source; this is a reader of that header and
-- nothing else. The image string is kept as is and read through FFI
-- pointers: the positions and node indices are never copied into Lua
-- tables, so a ring of millions of points costs its bytes once per worker.
--
--   local snapshot = require "ringd.snapshot"
--   local ring, err = snapshot.parse(image)     -- nil, "why" when refused
--   ring.checksum, ring.mode_name, ring.node_count, ring.entry_count
--   local n = ring:owners(key, 3, out)          -- out[1..n]: node indices
--   ring.names[i], ring.ips[i], ring.ports[i]   -- "ip:port", ip, port
--
-- owners() gives the owner first, then the next distinct nodes in ring
-- order (wrapping), as the agent's RING.OWNERS does.
--
-- Image, version 1 (little-endian; sections start at multiples of 8):
--   0 magic "RINGDMP1" | 8 mode u8 | 16 checksum, 16 hex | 32 node_count N
--   36 entry_count E | 40 names_bytes B | 44 points_per_node
--   48 names: N x (u16 length, bytes), zero-padded to B
--   48+B positions: E x u64, ascending (absent for maglev)
--   then node index of each position / Maglev slot: E x u32
--
-- Key position per mode (position = where the key lands on the ring):
--   0 default  XXH3_64bits(key), seed 0
--   1 maglev   slot = high 64 bits of XXH3_64bits(key) * E
--   2 nginx    crc32(key) << 32      (ngx.crc32_long: nginx's own CRC32)
--   3 ketama   (first 4 bytes of md5(key), little-endian) << 32
-- Owner = node of the first position >= the key's position (E wraps to 0).

local ffi = require "ffi"
local bit = require "bit"

local byte = string.byte
local sub = string.sub
local match = string.match
local tonumber = tonumber
local rshift = bit.rshift
local lshift = bit.lshift
local band = bit.band
local crc32_long = ngx.crc32_long
local md5_bin = ngx.md5_bin

ffi.cdef [[
uint64_t XXH3_64bits(const void *data, size_t len);
]]

local u8p = ffi.typeof("const uint8_t *")
local u32p = ffi.typeof("const uint32_t *")
local u64p = ffi.typeof("const uint64_t *")

local _M = { FORMAT_VERSION = "1" }

local MAGIC = "RINGDMP"        -- followed by the version digit
local HEADER = 48
local MODES = { [0] = "default", "maglev", "nginx", "ketama" }
_M.MODES = MODES

-- Debian's libxxhash0; loaded on first use so that a config that never
-- parses an image does not need it.
local xxh
local function xxh3()
    if not xxh then
        local ok, lib = pcall(ffi.load, "libxxhash.so.0")
        if not ok then
            error("ringd.snapshot: cannot load libxxhash.so.0 (install the "
                  .. "libxxhash0 package): " .. tostring(lib), 0)
        end
        xxh = lib
    end
    return xxh
end
_M.load_hash_library = xxh3

local Ring = {}
Ring.__index = Ring

-- Where the key lands: an index into the entries, 0-based.
function Ring:start(key)
    local e = self.entry_count
    local mode = self.mode
    if mode == 1 then
        -- High 64 bits of h * E from 32-bit halves (E < 2^32): no overflow,
        -- (2^32-1)^2 + 2^32 < 2^64.
        local h = xxh.XXH3_64bits(key, #key)
        local hi = rshift(h, 32) * e
        local lo = rshift(band(h, 0xffffffffULL) * e, 32)
        return tonumber(rshift(hi + lo, 32))
    end
    local pos
    if mode == 0 then
        pos = xxh.XXH3_64bits(key, #key)
    elseif mode == 2 then
        pos = lshift(0ULL + crc32_long(key), 32)
    else
        local d = md5_bin(key)
        local b1, b2, b3, b4 = byte(d, 1, 4)
        pos = lshift(0ULL + (b1 + b2 * 0x100 + b3 * 0x10000 + b4 * 0x1000000), 32)
    end
    -- lower_bound: the first position >= pos.
    local points = self.points
    local lo, hi = 0, e
    while lo < hi do
        local mid = rshift(lo + hi, 1)
        if points[mid] < pos then
            lo = mid + 1
        else
            hi = mid
        end
    end
    if lo == e then
        return 0
    end
    return lo
end

-- Fills out[1..k] with the node indices (1-based, into names/ips/ports) of
-- the owner and the next distinct owners in ring order, k = min(n, nodes);
-- returns k (0 on an empty ring). out may hold stale entries past k.
function Ring:owners(key, n, out)
    local e = self.entry_count
    if e == 0 then
        return 0
    end
    if n > self.node_count then
        n = self.node_count
    end
    local node = self.node
    local i = self:start(key)
    out[1] = node[i] + 1
    local k = 1
    for _ = 2, e do
        if k >= n then
            break
        end
        i = i + 1
        if i == e then
            i = 0
        end
        local v = node[i] + 1
        local seen = false
        for j = 1, k do
            if out[j] == v then
                seen = true
                break
            end
        end
        if not seen then
            k = k + 1
            out[k] = v
        end
    end
    return k
end

local function u32_at(p, at)
    return ffi.cast(u32p, p + at)[0]
end

-- Parses and checks an image; returns a Ring, or nil and a one-line reason.
-- Every index and length is checked, so a bad image cannot make a lookup
-- read outside the string.
function _M.parse(image)
    if type(image) ~= "string" then
        return nil, "image is not a string"
    end
    local len = #image
    if len < HEADER or sub(image, 1, 7) ~= MAGIC then
        return nil, "not a ring image (bad magic or shorter than its header)"
    end
    local version = sub(image, 8, 8)
    if version ~= _M.FORMAT_VERSION then
        return nil, "unknown image format version '" .. version .. "' (this nginx reads "
                    .. _M.FORMAT_VERSION .. ")"
    end
    local mode = byte(image, 9)
    if not MODES[mode] then
        return nil, "unknown ring mode " .. mode .. " (this nginx knows 0-3)"
    end
    local checksum = sub(image, 17, 32)
    if not match(checksum, "^%x+$") then
        return nil, "bad checksum field"
    end
    local p = ffi.cast(u8p, image)
    local n, e, nb = u32_at(p, 32), u32_at(p, 36), u32_at(p, 40)
    local point_bytes = (mode == 1) and 0 or 8 * e
    if nb % 8 ~= 0 or HEADER + nb + point_bytes + 4 * e ~= len then
        return nil, "sizes in the header do not match the image (" .. len .. " bytes)"
    end
    if (n == 0) ~= (e == 0) then
        return nil, "node_count " .. n .. " with entry_count " .. e
    end
    if mode == 0 or mode == 1 then
        -- Loaded (or the image refused) here: a lookup must not fail.
        local ok, err = pcall(xxh3)
        if not ok then
            return nil, err
        end
    end

    local names, ips, ports = {}, {}, {}
    local at, names_end = HEADER, HEADER + nb
    for i = 1, n do
        if at + 2 > names_end then
            return nil, "names section too short"
        end
        local l1, l2 = byte(image, at + 1, at + 2)
        local l = l1 + l2 * 256
        if at + 2 + l > names_end then
            return nil, "names section too short"
        end
        local name = sub(image, at + 3, at + 2 + l)
        names[i] = name
        -- "ip:port" or "[ipv6]:port"; anything else stays unroutable.
        local ip, port = match(name, "^%[([%x:.]+)%]:(%d+)$")
        if not ip then
            ip, port = match(name, "^([%d.]+):(%d+)$")
        end
        port = tonumber(port)
        if ip and port and port >= 1 and port <= 65535 then
            ips[i], ports[i] = ip, port
        end
        at = at + 2 + l
    end

    local points = (mode ~= 1) and ffi.cast(u64p, p + names_end) or nil
    local node = ffi.cast(u32p, p + names_end + point_bytes)
    for i = 0, e - 1 do
        if node[i] >= n then
            return nil, "entry " .. i .. " names node " .. node[i] .. " of " .. n
        end
    end
    if points then
        for i = 1, e - 1 do
            if points[i] < points[i - 1] then
                return nil, "positions not ascending at entry " .. i
            end
        end
    end

    return setmetatable({
        image = image, -- keeps the bytes the pointers below point into
        mode = mode,
        mode_name = MODES[mode],
        checksum = checksum,
        node_count = n,
        entry_count = e,
        points = points,
        node = node,
        names = names,
        ips = ips,
        ports = ports,
    }, Ring)
end

-- The checksum field of an image, without parsing the rest (nil if short).
function _M.image_checksum(image)
    if type(image) == "string" and #image >= HEADER then
        return sub(image, 17, 32)
    end
    return nil
end

return _M
