import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// Settings for tests that talk to the real PostgreSQL and Redis of the test stack.
///
/// `DATABASE_URL` and `REDIS_URL` come from the environment (`make test` sets them) with the local
/// stack's defaults; everything else is fixed so tests are fast and isolated.
public enum TestEnvironment {
    /// The PostgreSQL URL tests use.
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["DATABASE_URL"] ?? DatabaseConfiguration.localURL
    }

    /// The Redis URL tests use.
    public static var redisURL: String {
        ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
    }

    /// Environment variables for a service under test: ephemeral port, cheap bcrypt, a private key file.
    public static func serviceVariables(_ overrides: [String: String] = [:]) -> [String: String] {
        var values = [
            "APP_ENV": "test",
            "PORT": "0",
            "DATABASE_URL": databaseURL,
            "REDIS_URL": redisURL,
            "BCRYPT_COST": "4",
            "DATABASE_POOL_SIZE": "3",
            // Every test client comes from 127.0.0.1; tests of these limits lower them again.
            "RATE_LIMIT_REGISTER_PER_IP": "1000000",
            "RATE_LIMIT_LOGIN_PER_IP": "1000000",
            "RATE_LIMIT_ROOM_JOIN_PER_IP": "1000000",
            "JWT_KEY_FILE": NSTemporaryDirectory() + "voiceflow-test-\(UUID().uuidString).pem",
            "LOG_LEVEL": "warning",
        ]
        values.merge(overrides) { _, new in new }
        return values
    }

    /// A quiet logger for tests.
    public static func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }

    /// A short unique suffix for names that must not collide across tests and runs.
    public static func uniqueSuffix() -> String {
        String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10)).lowercased()
    }
}
