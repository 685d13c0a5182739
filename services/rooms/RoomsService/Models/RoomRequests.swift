import Foundation
import VoiceFlowCommon

/// Settings given on create or update: any subset of the four flags; a flag given as `null` is refused.
struct RoomSettingsPatch: Decodable {
    var isPublic: Bool?
    var allowGuests: Bool?
    var requireApproval: Bool?
    var recordMessages: Bool?

    enum CodingKeys: String, CodingKey {
        case isPublic, allowGuests, requireApproval, recordMessages
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        isPublic = try container.decodeUnlessNull(Bool.self, forKey: .isPublic)
        allowGuests = try container.decodeUnlessNull(Bool.self, forKey: .allowGuests)
        requireApproval = try container.decodeUnlessNull(Bool.self, forKey: .requireApproval)
        recordMessages = try container.decodeUnlessNull(Bool.self, forKey: .recordMessages)
    }

    func applied(to settings: RoomSettings) -> RoomSettings {
        RoomSettings(
            isPublic: isPublic ?? settings.isPublic,
            allowGuests: allowGuests ?? settings.allowGuests,
            requireApproval: requireApproval ?? settings.requireApproval,
            recordMessages: recordMessages ?? settings.recordMessages)
    }
}

/// `POST /api/v1/rooms`: optional fields may be left out, not given as `null`.
struct CreateRoomRequest: Decodable {
    var name: String
    var description: String?
    var maxUsers: Int?
    var settings: RoomSettingsPatch?

    enum CodingKeys: String, CodingKey {
        case name, description, maxUsers, settings
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeUnlessNull(String.self, forKey: .description)
        maxUsers = try container.decodeUnlessNull(Int.self, forKey: .maxUsers)
        settings = try container.decodeUnlessNull(RoomSettingsPatch.self, forKey: .settings)
    }
}

/// `PATCH /api/v1/rooms/:id`: absent fields stay as they are; `null` is refused.
struct UpdateRoomRequest: Decodable {
    var name: String?
    var description: String?
    var maxUsers: Int?
    var settings: RoomSettingsPatch?

    enum CodingKeys: String, CodingKey {
        case name, description, maxUsers, settings
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeUnlessNull(String.self, forKey: .name)
        description = try container.decodeUnlessNull(String.self, forKey: .description)
        maxUsers = try container.decodeUnlessNull(Int.self, forKey: .maxUsers)
        settings = try container.decodeUnlessNull(RoomSettingsPatch.self, forKey: .settings)
    }
}

extension KeyedDecodingContainer {
    /// The value for `key` if present; a `null` there is refused (the field is "must not be null").
    func decodeUnlessNull<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        guard try !decodeNil(forKey: key) else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "null is not allowed"))
        }
        return try decode(type, forKey: key)
    }
}

/// `PATCH /api/v1/rooms/:id/members/:userId`.
struct ChangeRoleRequest: Decodable {
    var role: String
}

/// The rules for room fields.
enum RoomRules {
    static let nameLength = 1...100
    static let maximumDescriptionLength = 1000
    static let maxUsersRange = 2...500
    static let defaultMaxUsers = 100
    static let roles: Set<String> = ["admin", "member"]

    /// The name trimmed; as given (before trimming) at most 100 characters, as the API description
    /// says, and at least one once trimmed.
    static func validatedName(_ name: String) throws(APIError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.storedLength <= nameLength.upperBound, nameLength.contains(trimmed.storedLength) else {
            throw .validation("name must be 1-100 characters", field: "name")
        }
        return trimmed
    }

    static func validatedDescription(_ description: String?) throws(APIError) -> String? {
        guard let description else { return nil }
        let trimmed = description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard description.storedLength <= maximumDescriptionLength else {
            throw .validation("description must be at most 1000 characters", field: "description")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    static func validatedMaxUsers(_ maxUsers: Int) throws(APIError) -> Int {
        guard maxUsersRange.contains(maxUsers) else { throw .validation("maxUsers must be between 2 and 500", field: "maxUsers") }
        return maxUsers
    }
}

/// Paging of room lists: `page` from 1, `limit` 1-100 (default 20).
struct Paging {
    var page: Int
    var limit: Int
    var offset: Int { (page - 1) * limit }

    init(query: [String: String]) throws(APIError) {
        var problems: [String: String] = [:]
        let page = query["page"].map { Int($0) } ?? 1
        let limit = query["limit"].map { Int($0) } ?? 20
        if page == nil || page! < 1 || page! > 100_000 { problems["page"] = "page must be a whole number from 1" }
        if limit == nil || limit! < 1 || limit! > 100 { problems["limit"] = "limit must be a whole number from 1 to 100" }
        guard problems.isEmpty, let page, let limit else { throw .validation(fields: problems) }
        self.page = page
        self.limit = limit
    }
}
