-- ringd.snapshot: the agent's ring image (RESP RING.DUMP) read in-process.
--
-- The image format and the lookup rule of each ring mode are those of
-- ring/dump.h in the ringd source; this is a reader of that header and
-- nothing else. The image string is kept as is and read through FFI
-- pointers: the positions and node indices are never copied into Lua
-- tables, so a ring of millions of points costs its bytes once per worker,
-- plus a bucket index of about 8 bytes per point (at most 4 MB).
--
--   local snapshot = require "ringd.snapshot"
--   local ring, err = snapshot.parse(image)     -- nil, "why" when refused
--   ring.checksum, ring.mode_name, ring.node_count, ring.entry_count
--   local i = ring:owner(key [, len])           -- node index, nil if empty
--   local n = ring:owners(key, 3, out [, len])  -- out[1..n]: node indices
--   ring.names[i], ring.ips[i], ring.ports[i]   -- "ip:port", ip, port
--
-- owners() gives the owner first, then the next distinct nodes in ring
-- order (wrapping), as the agent's RING.OWNERS does. len: hash only the
-- first len bytes of key (a request URI up to its '?', without a copy).
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
--   4 multiprobe  h = XXH3_64bits(key); k probes (header field 44), probe i
--              at x = h ^ (i * 0x9e3779b97f4a7c15), x ^= x >> 32,
--              x *= 0xd6e8feb86659fd93, x ^= x >> 32; each probe's point is
--              the first position >= it (wrapping), at distance (position -
--              probe) mod 2^64; the nearest (lowest probe on a tie) owns the
--              key. Failover: every probe walks past the points of the nodes
--              already chosen, and the nearest remaining point is next.

local ffi = require "ffi"
local bit = require "bit"
local endpoint = require "ringd.endpoint"

local byte = string.byte
local sub = string.sub
local match = string.match
local tonumber = tonumber
local rshift = bit.rshift
local lshift = bit.lshift
local band = bit.band
local bxor = bit.bxor
local md5_bin = ngx.md5_bin

-- nginx's own CRC32 (ngx.crc32_long) over the first len bytes of a string,
-- without cutting the string: resty.core.hash declares the C function.
require "resty.core.hash"
local crc32_long = ffi.C.ngx_http_lua_ffi_crc32_long

ffi.cdef [[
uint64_t XXH3_64bits(const void *data, size_t len);
]]

local u8p = ffi.typeof("const uint8_t *")
local u32p = ffi.typeof("const uint32_t *")
local u64p = ffi.typeof("const uint64_t *")

local _M = { FORMAT_VERSION = "1" }

local MAGIC = "RINGDMP"        -- followed by the version digit
local HEADER = 48
local MODES = { [0] = "default", "maglev", "nginx", "ketama", "multiprobe" }
local MAX_PROBES = 64
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

-- First index in [lo, hi) whose position is >= pos (hi if none): the slow
-- path of start(), for a bucket that holds more than two points.
local function lower_bound(points, lo, hi, pos)
    while lo < hi do
        local mid = rshift(lo + hi, 1)
        if points[mid] < pos then
            lo = mid + 1
        else
            hi = mid
        end
    end
    return lo
end

-- Where the first len bytes of key (all of it when len is nil) land: an
-- index into the entries, 0-based. The ring must not be empty.
--
-- No loop on the common path, so LuaJIT compiles a caller (the balancer)
-- into one trace: the bucket index (see bucket_index below) narrows the
-- search to the points that share the key's top bits, and a bucket holds
-- at most two points in most cases.
function Ring:start(key, len)
    len = len or #key
    local mode = self.mode
    local pos
    if mode == 0 then
        pos = xxh.XXH3_64bits(key, len)
    elseif mode == 1 then
        -- High 64 bits of h * E from 32-bit halves (E < 2^32): no overflow,
        -- (2^32-1)^2 + 2^32 < 2^64.
        local e = self.entry_count
        local h = xxh.XXH3_64bits(key, len)
        local hi = rshift(h, 32) * e
        local lo = rshift(band(h, 0xffffffffULL) * e, 32)
        return tonumber(rshift(hi + lo, 32))
    elseif mode == 2 then
        pos = lshift(0ULL + crc32_long(key, len), 32)
    else
        if len ~= #key then
            key = sub(key, 1, len)
        end
        local d = md5_bin(key)
        local b1, b2, b3, b4 = byte(d, 1, 4)
        pos = lshift(0ULL + (b1 + b2 * 0x100 + b3 * 0x10000 + b4 * 0x1000000), 32)
    end
    return self:index_of(pos)
end

-- lower_bound: the first position >= pos, 0 past the last (wrapping).
-- Points of earlier buckets are all below pos, points of later ones above.
function Ring:index_of(pos)
    local bucket = self.bucket
    local b = tonumber(rshift(pos, self.shift))
    local i, j = bucket[b], bucket[b + 1]
    local points = self.points
    if i < j and points[i] < pos then
        i = i + 1
        if i < j and points[i] < pos then
            i = lower_bound(points, i + 1, j, pos)
        end
    end
    if i == self.entry_count then
        return 0
    end
    return i
end

-- The owner's node index (1-based, into names/ips/ports) of the first len
-- bytes of key (all of it when len is nil); nil on an empty ring.
function Ring:owner(key, len)
    if self.entry_count == 0 then
        return nil
    end
    if self.mode == 4 then
        return self:multiprobe_owners(key, len or #key, 1, nil)
    end
    return self.node[self:start(key, len)] + 1
end

-- Whether v is one of out[1..k].
local function chosen(out, k, v)
    for j = 1, k do
        if out[j] == v then
            return true
        end
    end
    return false
end

local GOLDEN = 0x9e3779b97f4a7c15ULL
local MIX = 0xd6e8feb86659fd93ULL

-- Multiprobe (mode 4): with out == nil the owner's node index (1-based);
-- else fills out[1..k] with the owner and failover order, returns k.
function Ring:multiprobe_owners(key, len, n, out)
    local h = xxh.XXH3_64bits(key, len)
    local points, node, e = self.points, self.node, self.entry_count
    local k = 0
    while k < n do
        local best, winner
        for i = 0, self.probes - 1 do
            local x = bxor(h, i * GOLDEN)
            x = bxor(x, rshift(x, 32)) * MIX
            x = bxor(x, rshift(x, 32))
            local at = self:index_of(x)
            -- Past the points of nodes already chosen (at most once round).
            for _ = 1, e do
                local v = node[at] + 1
                if not chosen(out, k, v) then
                    local d = points[at] - x
                    if not best or d < best then
                        best, winner = d, v
                    end
                    break
                end
                at = at + 1
                if at == e then
                    at = 0
                end
            end
        end
        if not out then
            return winner
        end
        if not winner then
            break
        end
        k = k + 1
        out[k] = winner
    end
    return k
end

-- Fills out[1..k] with the node indices (1-based, into names/ips/ports) of
-- the owner and the next distinct owners in ring order, k = min(n, nodes);
-- returns k (0 on an empty ring). out may hold stale entries past k. len as
-- for start().
function Ring:owners(key, n, out, len)
    local e = self.entry_count
    if e == 0 then
        return 0
    end
    if n > self.node_count then
        n = self.node_count
    end
    if self.mode == 4 then
        return self:multiprobe_owners(key, len or #key, n, out)
    end
    local node = self.node
    local i = self:start(key, len)
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
        if not chosen(out, k, v) then
            k = k + 1
            out[k] = v
        end
    end
    return k
end

-- The bucket index of sorted positions: the top `bits` bits of a position
-- name its bucket, and bucket[b] is the first entry whose bucket is >= b
-- (bucket[2^bits] = E), so the entries of bucket b are [bucket[b],
-- bucket[b+1]). About two buckets per entry (at most 2^20 buckets, 4 MB), so
-- most buckets hold zero, one or two points. Returns the index and the shift
-- that takes a position to its bucket.
local MAX_BUCKET_BITS = 20
local function bucket_index(points, e)
    local bits = 1
    while bits < MAX_BUCKET_BITS and lshift(1, bits) < 2 * e do
        bits = bits + 1
    end
    local count = lshift(1, bits)
    local shift = 64 - bits
    local bucket = ffi.new("uint32_t[?]", count + 1)
    local i = 0
    for b = 0, count - 1 do
        while i < e and tonumber(rshift(points[i], shift)) < b do
            i = i + 1
        end
        bucket[b] = i
    end
    bucket[count] = e
    return bucket, shift
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
        return nil, "unknown ring mode " .. mode .. " (this nginx knows 0-4)"
    end
    local probes = 0
    if mode == 4 then
        probes = u32_at(ffi.cast(u8p, image), 44)
        if probes < 1 or probes > MAX_PROBES then
            return nil, "multiprobe image with " .. probes .. " probes (1-" .. MAX_PROBES .. ")"
        end
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
    if mode == 0 or mode == 1 or mode == 4 then
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
        ips[i], ports[i] = endpoint(name)
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

    local bucket, shift
    if points and e > 0 then
        bucket, shift = bucket_index(points, e)
    end

    return setmetatable({
        image = image, -- keeps the bytes the pointers below point into
        mode = mode,
        mode_name = MODES[mode],
        checksum = checksum,
        node_count = n,
        entry_count = e,
        points = points,
        bucket = bucket, -- see bucket_index (nil for maglev)
        shift = shift,
        probes = probes, -- multiprobe
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
