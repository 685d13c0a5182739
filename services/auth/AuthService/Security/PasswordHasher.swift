import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing off the event loops, with a constant-cost check for unknown accounts.
struct PasswordHasher: Sendable {
    private let cost: UInt8
    /// A hash of a random password at the same cost: verifying against it costs what a real check
    /// costs, so "no such e-mail" and "wrong password" take about the same time.
    private let decoyHash: String

    init(cost: Int) {
        self.cost = UInt8(cost)
        self.decoyHash = Bcrypt.hash("decoy-\(UInt64.random(in: .min ... .max))", cost: UInt8(cost))
    }

    /// The bcrypt hash of `password`.
    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) runs a decoy check and fails.
    func verify(_ password: String, against hash: String?) async throws -> Bool {
        let decoy = decoyHash
        return try await NIOThreadPool.singleton.runIfActive {
            let matches = Bcrypt.verify(password, hash: hash ?? decoy)
            return hash != nil && matches
        }
    }
}
