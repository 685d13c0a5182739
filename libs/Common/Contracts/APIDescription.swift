import Foundation

/// The OpenAPI 3.1 description of the whole REST API (`libs/Common/Resources/openapi.json`), served at
/// `/api/v1/openapi.json` and checked against the running stack by schemathesis in CI.
public enum APIDescription {
    /// The document's bytes.
    public static func load() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
