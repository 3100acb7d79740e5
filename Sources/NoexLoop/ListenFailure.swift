import CUV

/// Why `WebSocketServer.start` could not listen, in words a user can act on: the address, what
/// libuv said, and the usual fix for that error. Shared by the protocol server and echo mode.
public func listenFailureMessage(host: String, port: Int, error: UVError) -> String {
    let address = "\(urlHost(host)):\(port)"
    let fix: String
    switch error.code {
    case UV_EADDRINUSE.rawValue:
        fix = "another process already listens on port \(port); stop it, or choose another port (-p, or -p 0 for a free one)"
    case UV_EACCES.rawValue:
        fix = "ports below 1024 need root privileges; choose a port from 1024 up (-p)"
    case UV_EADDRNOTAVAIL.rawValue:
        fix = "\(host) is not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or an address that ip addr lists"
    case UV_EAI_NONAME.rawValue, UV_EAI_AGAIN.rawValue, UV_EAI_FAIL.rawValue, UV_EAI_NODATA.rawValue:
        fix = "the host name \"\(host)\" does not resolve; give an IP address such as 127.0.0.1 or 0.0.0.0, or a name from /etc/hosts"
    case UV_EINVAL.rawValue:
        fix = "check the host (an IPv4/IPv6 address or a host name) and the port (0-65535)"
    case UV_EAFNOSUPPORT.rawValue:
        fix = "this machine has no support for that address family (IPv6 disabled?); use an IPv4 address such as 127.0.0.1"
    default:
        fix = "check the host (-H) and the port (-p)"
    }
    return "cannot listen on \(address): \(error); \(fix)"
}

/// A host as it goes into a URL or `host:port`: an IPv6 literal in brackets (`[::1]`), as
/// RFC 3986 wants, so the port cannot be mistaken for part of the address.
public func urlHost(_ host: String) -> String {
    host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
}
