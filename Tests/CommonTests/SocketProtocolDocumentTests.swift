import Foundation
import Testing
import VoiceFlowCommon

/// `libs/Common/Resources/asyncapi.json` against the Swift definition of the socket protocol
/// (`SocketProtocol.swift`, `SocketEventNames.swift`): the same events, and what the Swift encoder
/// writes for each payload and acknowledgement conforms to the document's schema for it.
struct SocketProtocolDocumentTests {
    /// A message of the document: its event (or type) name and payload schema.
    struct Message {
        let name: String
        let payload: JSONValue
    }

    /// An operation of the document: its message and, for client events, the acknowledgements.
    struct Operation {
        let message: Message
        let replies: [Message]
    }

    let document: JSONValue
    let check: JSONSchemaCheck
    /// Client events (`receive`) and server events (`send`), by event name.
    let clientEvents: [String: Operation]
    let serverEvents: [String: Operation]

    init() throws {
        let document = try JSONValue.parse(try APIDescription.load(.socketProtocol))
        let check = JSONSchemaCheck(root: document)
        self.document = document
        self.check = check
        func message(_ reference: JSONValue?) throws -> Message {
            var node = try #require(reference?["$ref"]?.string.flatMap(check.resolve))
            while let next = node["$ref"]?.string { node = try #require(check.resolve(next)) }
            return Message(name: try #require(node["name"]?.string), payload: try #require(node["payload"]))
        }
        var client: [String: Operation] = [:]
        var server: [String: Operation] = [:]
        for (id, operation) in try #require(document["operations"]?.object) {
            let messages = try #require(operation["messages"]?.array, "\(id) has no messages")
            #expect(messages.count == 1, "\(id): one event per operation")
            let event = Operation(
                message: try message(messages.first), replies: try (operation["reply"]?["messages"]?.array ?? []).map(message))
            switch operation["action"]?.string {
            case "receive"?: client[event.message.name] = event
            case "send"?: server[event.message.name] = event
            default: Issue.record("\(id): action is neither send nor receive")
            }
        }
        clientEvents = client
        serverEvents = server
    }

    @Test func isAsyncAPI3WithEveryEventOfTheSwiftDefinition() {
        #expect(document["asyncapi"] == .string("3.0.0"))
        #expect(Set(clientEvents.keys) == Set(ClientEventName.allCases.map(\.rawValue)))
        #expect(Set(serverEvents.keys) == Set(ServerEventName.allCases.map(\.rawValue)))
        for (name, event) in serverEvents {
            #expect(event.replies.isEmpty, "\(name): the gateway asks for no acknowledgements")
        }
    }

    @Test func enumsAreTheSwiftOnes() throws {
        func choices(_ schema: String) throws -> Set<String> {
            Set(try #require(document["components"]?["schemas"]?[schema]?["enum"]?.array).compactMap(\.string))
        }
        #expect(try choices("ErrorCode") == Set(ErrorCode.allCases.map(\.rawValue)))
        #expect(try choices("PresenceStatus") == Set(PresenceStatus.allCases.map(\.rawValue)))
        let settable = try #require(
            document["components"]?["schemas"]?["PresenceUpdateRequest"]?["properties"]?["status"]?["enum"]?.array)
        #expect(Set(settable.compactMap(\.string)) == Set(PresenceStatus.settable.map(\.rawValue)))
    }

    @Test(arguments: SocketProtocolSamples.serverEvents)
    func serverEventPayloadsConform(_ event: ServerEvent) throws {
        let operation = try #require(serverEvents[event.name.rawValue])
        let problems = check.problems(try encode(event.payload), operation.message.payload)
        #expect(problems.isEmpty, "\(event.name.rawValue): \(problems)")
    }

    @Test func everyServerEventHasASample() {
        #expect(Set(SocketProtocolSamples.serverEvents.map(\.name)) == Set(ServerEventName.allCases))
    }

    @Test(arguments: SocketProtocolSamples.clientEvents)
    func clientEventPayloadsConformAndDecode(_ event: ClientEvent) throws {
        let operation = try #require(clientEvents[event.name.rawValue])
        let payload = SocketProtocolSamples.payload(of: event)
        let json = try WireDateCoding.encoder().encode(payload)
        let problems = check.problems(try JSONValue.parse(json), operation.message.payload)
        #expect(problems.isEmpty, "\(event.name.rawValue): \(problems)")
        #expect(try ClientEvent.decode(event.name, json: json) == event)
    }

    @Test func everyClientEventHasASample() {
        #expect(Set(SocketProtocolSamples.clientEvents.map(\.name)) == Set(ClientEventName.allCases))
    }

    @Test(arguments: ClientEventName.allCases)
    func acknowledgementsAreTheSuccessTypeOrTheFailure(_ name: ClientEventName) throws {
        let operation = try #require(clientEvents[name.rawValue])
        let success = SocketProtocolSamples.acknowledgement(of: name)
        // The reply lists exactly the Swift types: the success type, then AckFailure.
        #expect(operation.replies.map(\.name) == [String(describing: type(of: success)), String(describing: AckFailure.self)])
        let replies = operation.replies.map(\.payload)
        let failure = AckFailure(ErrorBody(code: ErrorCode.forbidden.rawValue, message: "Join the room first"))
        for ack in [success, failure] as [any Encodable] {
            let value = try encode(ack)
            let matching = replies.filter { check.problems(value, $0).isEmpty }
            #expect(matching.count == 1, "\(name.rawValue): \(type(of: ack)) matches \(matching.count) replies: \(replies.map { check.problems(value, $0) })")
        }
    }

    @Test func connectAuthAndRefusalConform() throws {
        let connect = try #require(document["channels"]?["socket"]?["x-socketio-connect"])
        let auth = try #require(connect["auth"])
        #expect(check.problems(try encode(ConnectAuth(token: "header.payload.signature")), auth).isEmpty)
        let error = try #require(connect["error"])
        let refusal = try encode(ConnectRefusal(code: .unauthorized))
        #expect(check.problems(.object(["message": .string("Authentication required"), "data": refusal]), error).isEmpty)
    }

    /// The check is not vacuous: what the document does not allow is reported.
    @Test func theCheckFindsWhatDoesNotConform() throws {
        let typing = try #require(serverEvents[ServerEventName.userTyping.rawValue]).message.payload
        let valid = try encode(UserTypingEvent(roomId: SocketProtocolSamples.roomID, userId: SocketProtocolSamples.userID, username: "alice"))
        #expect(check.problems(valid, typing).isEmpty)
        guard case .object(var fields) = valid else { Issue.record("not an object"); return }
        fields["username"] = nil
        #expect(!check.problems(.object(fields), typing).isEmpty)  // required
        fields["username"] = .number(7)
        #expect(!check.problems(.object(fields), typing).isEmpty)  // type
        fields["username"] = .string("alice")
        fields["roomId"] = .string(SocketProtocolSamples.roomID.uppercased())
        #expect(!check.problems(.object(fields), typing).isEmpty)  // lowercase pattern
        fields["roomId"] = .string(SocketProtocolSamples.roomID)
        fields["extra"] = .bool(true)
        #expect(!check.problems(.object(fields), typing).isEmpty)  // additionalProperties
        let presence = try #require(serverEvents[ServerEventName.presenceChanged.rawValue]).message.payload
        let invisible = JSONValue.object(["userId": .string(SocketProtocolSamples.userID), "status": .string("invisible")])
        #expect(!check.problems(invisible, presence).isEmpty)  // enum
        let left = try #require(serverEvents[ServerEventName.userLeft.rawValue]).message.payload
        let undated = JSONValue.object(
            ["roomId": .string(SocketProtocolSamples.roomID), "userId": .string(SocketProtocolSamples.userID), "timestamp": .string("today")])
        #expect(!check.problems(undated, left).isEmpty)  // date-time
    }

    private func encode(_ value: any Encodable) throws -> JSONValue {
        try JSONValue.parse(try WireDateCoding.encoder().encode(value))
    }
}
