import Foundation

/// How each service's executable runs: a failure that ends it (a refused setting, a port already
/// in use, a database it cannot reach at start-up) is one line on standard error and an exit
/// status, not a crash report. A crash report is slow to make, and a crash handler that does not
/// finish leaves a process that neither serves nor exits (a container that never restarts).
public enum ServiceStart {
    /// The exit status of a refused configuration (`EX_CONFIG` of sysexits.h).
    public static let configurationErrorStatus: Int32 = 78
    /// The exit status of any other failure.
    public static let failureStatus: Int32 = 1

    /// Runs `body`; if it throws, prints `program: <error>` on standard error and exits with
    /// ``configurationErrorStatus`` for a ``ConfigurationError``, ``failureStatus`` otherwise.
    public static func run(_ program: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(error is ConfigurationError ? configurationErrorStatus : failureStatus)
        }
    }
}
