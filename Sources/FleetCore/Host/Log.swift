import Foundation
import Logging

/// Diagnostics: swift-log, on stderr by default, never mixed into a command's results on
/// stdout. The executable bootstraps it once (`Log.bootstrap`); FleetCore logs through `Log.core`.
public enum Log {
    /// The core's logger.
    public static let core = Logger(label: "mosaic")

    /// `MOSAIC_LOG`'s level (trace, debug, info, notice, warning, error, critical); nil if unset
    /// or not a level.
    public static func level(in environment: [String: String]) -> Logger.Level? {
        environment["MOSAIC_LOG"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
    }

    /// Sends every logger to stderr at `MOSAIC_LOG`'s level (warning when unset).
    public static func bootstrap(environment: [String: String]) {
        let level = level(in: environment) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if let raw = environment["MOSAIC_LOG"], !raw.isEmpty, Self.level(in: environment) == nil {
            core.warning("MOSAIC_LOG=\(raw) is not a level; use trace, debug, info, notice, warning or error")
        }
    }
}
