import Foundation
import Logging

/// How each service's executable runs: it reads its configuration, logs JSON at the configured
/// level under its program name, and serves. A failure that ends it (a refused setting, a port
/// already in use, a database it cannot reach at start-up) is one line on standard error and an
/// exit status, not a crash report. A crash report is slow to make, and a crash handler that does
/// not finish leaves a process that neither serves nor exits (a container that never restarts).
public enum ServiceStart {
    /// The exit status of a refused configuration (`EX_CONFIG` of sysexits.h).
    public static let configurationErrorStatus: Int32 = 78
    /// The exit status of any other failure.
    public static let failureStatus: Int32 = 1

    /// Reads the configuration (`configuration`), bootstraps JSON logging at its `logLevel`, and
    /// runs `body` with a logger labelled `program`. If anything throws, prints
    /// `program: <error>` on standard error and exits with ``configurationErrorStatus`` for a
    /// ``ConfigurationError``, ``failureStatus`` otherwise.
    public static func run<Configuration>(
        _ program: String, configuration makeConfiguration: () throws -> Configuration, logLevel: (Configuration) -> String,
        _ body: (Configuration, Logger) async throws -> Void
    ) async {
        do {
            let configuration = try makeConfiguration()
            let level = Logger.Level(configValue: logLevel(configuration))
            LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
            try await body(configuration, Logger(label: program))
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(error is ConfigurationError ? configurationErrorStatus : failureStatus)
        }
    }
}
