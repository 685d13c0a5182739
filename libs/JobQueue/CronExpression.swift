import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`, UTC), with `*`,
/// lists (`1,15`), ranges (`1-5`) and steps (`*/10`, `0-30/5`). Day of week 0–7 (0 and 7: Sunday).
/// As in cron, when both day fields are restricted a day matching either fires.
///
/// ```swift
/// let nightly = try CronExpression("30 3 * * *")   // 03:30 UTC every day
/// nightly.matches(Date())
/// ```
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let restrictsDayOfMonth: Bool
    let restrictsDayOfWeek: Bool

    /// Why an expression was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(_ expression: String) throws(ParseError) {
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else { throw ParseError(description: "a cron expression has 5 fields, got \(fields.count)") }
        description = fields.joined(separator: " ")
        minutes = try Self.parse(fields[0], 0...59, "minute")
        hours = try Self.parse(fields[1], 0...23, "hour")
        daysOfMonth = try Self.parse(fields[2], 1...31, "day of month")
        months = try Self.parse(fields[3], 1...12, "month")
        daysOfWeek = Set(try Self.parse(fields[4], 0...7, "day of week").map { $0 % 7 })
        restrictsDayOfMonth = fields[2] != "*"
        restrictsDayOfWeek = fields[4] != "*"
    }

    private static func parse(_ field: String, _ range: ClosedRange<Int>, _ name: String) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "bad \(name) field \(field)") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw ParseError(description: "bad step in \(name) field \(field)") }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let low = Int(pieces[0][..<dash]), let high = Int(pieces[0][pieces[0].index(after: dash)...]), low <= high,
                    range.contains(low), range.contains(high)
                else { throw ParseError(description: "bad range in \(name) field \(field)") }
                bounds = low...high
            } else {
                guard let value = Int(pieces[0]), range.contains(value) else {
                    throw ParseError(description: "\(name) must be in \(range.lowerBound)-\(range.upperBound), got \(field)")
                }
                bounds = pieces.count == 2 ? value...range.upperBound : value...value
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    /// Whether the expression fires in the minute containing `date` (UTC).
    public func matches(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
            let weekday = parts.weekday
        else { return false }
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dayOfMonthMatches = daysOfMonth.contains(day)
        let dayOfWeekMatches = daysOfWeek.contains(weekday - 1)
        switch (restrictsDayOfMonth, restrictsDayOfWeek) {
        case (true, true): return dayOfMonthMatches || dayOfWeekMatches
        case (true, false): return dayOfMonthMatches
        case (false, true): return dayOfWeekMatches
        case (false, false): return true
        }
    }
}
