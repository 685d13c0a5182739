/// The extensions a server lists in its EHLO reply (`STARTTLS`, `AUTH PLAIN LOGIN`, ...).
struct SMTPCapabilities: Sendable, Equatable {
    private var parameters: [String: [String]] = [:]

    init() {}

    /// Reads every line after the first (the server's name) as `KEYWORD params...`.
    init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            if keyword.hasPrefix("AUTH=") {
                // The pre-standard `AUTH=PLAIN LOGIN` form some servers still send.
                parameters["AUTH", default: []] += [String(keyword.dropFirst(5))] + words.dropFirst()
            } else {
                parameters[keyword, default: []] += words.dropFirst()
            }
        }
    }

    /// Whether the server advertises `keyword`.
    func supports(_ keyword: String) -> Bool {
        parameters[keyword] != nil
    }

    /// The SASL mechanisms after `AUTH`.
    var authenticationMechanisms: Set<String> {
        Set(parameters["AUTH"] ?? [])
    }
}
