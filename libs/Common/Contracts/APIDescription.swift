import Foundation

/// The machine-readable descriptions of VoiceFlow's APIs, bundled with this module and served by
/// the auth service through the edge.
///
/// ```swift
/// let rest = try APIDescription.load()                  // openapi.json
/// let socket = try APIDescription.load(.socketProtocol) // asyncapi.json
/// ```
public enum APIDescription {
    /// One of the bundled documents.
    public enum Document: String, Sendable, CaseIterable {
        /// The OpenAPI 3.1 description of the whole REST API (`libs/Common/Resources/openapi.json`),
        /// checked against the running stack by schemathesis in CI.
        case restAPI = "openapi"
        /// The AsyncAPI 3.0 description of the Socket.IO protocol (`libs/Common/Resources/asyncapi.json`),
        /// the wire form of ``ClientEvent`` and ``ServerEvent``; the end-to-end tests check every
        /// event the gateways send against it.
        case socketProtocol = "asyncapi"

        /// Where it is served: `/api/v1/openapi.json`, `/api/v1/asyncapi.json`.
        public var path: String { "/api/v1/\(rawValue).json" }
    }

    /// The document's bytes.
    public static func load(_ document: Document = .restAPI) throws -> Data {
        guard let url = Bundle.module.url(forResource: document.rawValue, withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
