import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct ConfigurationTests {
    @Test func defaultsReachTheLocalStack() throws {
        let configuration = try ServiceConfiguration(environment: EnvironmentReader([:]), defaultPort: 3001)
        #expect(configuration.mode == .development)
        #expect(configuration.port == 3001)
        #expect(configuration.database.host == "127.0.0.1")
        #expect(configuration.database.database == "voiceflow")
        #expect(configuration.redis.port == 6379)
        #expect(configuration.maxBodyBytes == 1_048_576)
    }

    @Test func productionRefusesDefaultSecrets() {
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "DATABASE_URL")) {
            try ServiceConfiguration(environment: EnvironmentReader(["APP_ENV": "production"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "REDIS_URL")) {
            try ServiceConfiguration(
                environment: EnvironmentReader(["NODE_ENV": "production", "DATABASE_URL": "postgresql://u:strong@db/vf"]),
                defaultPort: 1)
        }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "JWT_PRIVATE_KEY")) {
            try SigningKey.load(
                TokenKeyConfiguration(environment: EnvironmentReader(["JWT_KEY_FILE": "/nonexistent/key.pem"])),
                mode: .production)
        }
    }

    @Test func badValuesAreNamed() {
        #expect(throws: ConfigurationError.invalidValue(key: "PORT", reason: "not an integer")) {
            try ServiceConfiguration(environment: EnvironmentReader(["PORT": "eighty"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(environment: EnvironmentReader(["DATABASE_URL": "mysql://x"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(environment: EnvironmentReader(["APP_ENV": "staging-ish"]), defaultPort: 1)
        }
    }

    @Test func databaseURLIsParsedAndItsDescriptionHidesThePassword() throws {
        let database = try DatabaseConfiguration(url: "postgresql://app:s%40cret@db.internal:6543/chat")
        #expect(database.username == "app")
        #expect(database.password == "s@cret")
        #expect(database.port == 6543)
        #expect(database.database == "chat")
        #expect(!database.description.contains("s@cret"))
        #expect(!database.description.contains("cret"))
    }

    @Test func corsOriginsComeFromBothVariables() throws {
        let configuration = try ServiceConfiguration(
            environment: EnvironmentReader([
                "FRONTEND_URL": "https://chat.example", "SOCKET_CORS_ORIGIN": "https://a.example, https://b.example",
            ]), defaultPort: 1)
        #expect(configuration.allowedOrigins == ["https://chat.example", "https://a.example", "https://b.example"])
    }
}
