-- ringd.request: what both lookup modes need from the client request.
--
--   key()                         the routing key: the request path exactly as
--                                 the client sent it ($request_uri up to the
--                                 first '?'): not URL-decoded, no query
--   key_length(uri)               the key's length in a $request_uri, for
--                                 hashing it in place
--   reject(status, reason, code)  ends the request with a one-line text body
--                                 and X-Ringd-Error: code

local ngx = ngx
local find = string.find
local sub = string.sub

local _M = {}

function _M.key_length(uri)
    local q = find(uri, "?", 1, true)
    if q then
        return q - 1
    end
    return #uri
end

function _M.key()
    local uri = ngx.var.request_uri
    local q = find(uri, "?", 1, true)
    if q then
        return sub(uri, 1, q - 1)
    end
    return uri
end

function _M.reject(status, reason, code)
    ngx.status = status
    ngx.header["Content-Type"] = "text/plain"
    ngx.header["X-Ringd-Error"] = code
    ngx.header["Cache-Control"] = "no-store"
    ngx.header["Content-Length"] = #reason + 1
    ngx.say(reason)
    return ngx.exit(status)
end

return _M
