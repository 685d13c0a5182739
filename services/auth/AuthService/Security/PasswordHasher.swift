import HummingbirdBcrypt

/// bcrypt hashing on the bounded ``BcryptPool``, with a constant-cost check for unknown accounts.
///
/// Both operations throw 503 (``BcryptPool/overloaded``) when the pool is full.
struct PasswordHasher: Sendable {
    private let cost: UInt8
    private let pool: BcryptPool
    /// A hash of a random password at the same cost: verifying against it costs what a real check
    /// costs, so "no such e-mail" and "wrong password" take about the same time.
    private let decoyHash: String

    init(cost: Int, pool: BcryptPool) {
        self.cost = UInt8(cost)
        self.pool = pool
        self.decoyHash = Bcrypt.hash("decoy-\(UInt64.random(in: .min ... .max))", cost: UInt8(cost))
    }

    /// The bcrypt hash of `password`.
    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await pool.run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) runs a decoy check and fails.
    func verify(_ password: String, against hash: String?) async throws -> Bool {
        let decoy = decoyHash
        return try await pool.run {
            let matches = Bcrypt.verify(password, hash: hash ?? decoy)
            return hash != nil && matches
        }
    }
}
