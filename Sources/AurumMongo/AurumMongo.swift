import Aurum

/// Registers the MongoDB source (`type: mongodb`) and target (`format: mongodb`) with Aurum.
public enum AurumMongo {
    public static func register() {
        ConnectorRegistry.shared.register(source: MongoSourceConnector())
        ConnectorRegistry.shared.register(target: MongoTargetConnector())
    }
}
