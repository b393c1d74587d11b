import Aurum

/// The PostgreSQL connector: a source (`type: postgresql`) and a target (`format: postgresql`).
public enum AurumPostgres {
    /// Registers the source and target connectors in `ConnectorRegistry.shared` (idempotent).
    public static func register() {
        ConnectorRegistry.shared.register(source: PostgresSource())
        ConnectorRegistry.shared.register(target: PostgresTarget())
    }
}
