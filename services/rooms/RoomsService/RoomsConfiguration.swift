import VoiceFlowCommon

/// Settings of the rooms service: the shared ones (see ``ServiceConfiguration``); `PORT` defaults to 3002.
public struct RoomsConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 3002)
    }
}
