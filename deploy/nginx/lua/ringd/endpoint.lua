-- ringd.endpoint: a ring endpoint name as nginx can connect to it.
--
--   local ip, port = require("ringd.endpoint")(name)
--
-- "ip:port" (IPv4) or "[ipv6]:port" -> ip, port (a number, 1-65535); nil
-- for anything else (a hostname, no port, a bad port): such an endpoint is
-- never routed to.

local match = string.match
local tonumber = tonumber
local type = type

return function(name)
    if type(name) ~= "string" then
        return nil
    end
    local ip, port = match(name, "^%[([%x:.]+)%]:(%d+)$")
    if not ip then
        ip, port = match(name, "^([%d.]+):(%d+)$")
    end
    port = tonumber(port)
    if not ip or not port or port < 1 or port > 65535 then
        return nil
    end
    return ip, port
end
