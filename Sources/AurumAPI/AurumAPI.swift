import Aurum

/// HTTP API sources (`type: api`), read through Foundation's URLSession.
///
/// `register()` adds the `api` source type to `ConnectorRegistry.shared`; call it once at start-up
/// (the executable does). FoundationNetworking (libcurl on Linux) stays in this module, out of the core.
public enum AurumAPI {
    public static func register() {
        ConnectorRegistry.shared.register(source: APISourceConnector())
    }
}
