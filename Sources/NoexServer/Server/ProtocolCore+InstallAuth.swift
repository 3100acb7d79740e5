extension ProtocolCore {
    /// Replaces the auth mode before any client connected (the C API's validate callback is
    /// set after start): the gate, the `auth.*` operations and the stats' `authEnabled` follow.
    func installAuth(_ auth: AuthConfig?) {
        precondition(connections.isEmpty, "installAuth with connected clients")
        config.auth = auth
        gate = AuthGate(auth: auth)
        authOps = AuthOperations(auth: auth)
    }
}
