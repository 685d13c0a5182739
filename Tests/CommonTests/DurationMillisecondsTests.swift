import Testing
import VoiceFlowCommon

struct DurationMillisecondsTests {
    @Test func wholeMillisecondsDropTheRestTowardsZero() {
        #expect(Duration.seconds(10).wholeMilliseconds == 10_000)
        #expect(Duration.milliseconds(1_500).wholeMilliseconds == 1_500)
        #expect(Duration.microseconds(2_999).wholeMilliseconds == 2)
        #expect(Duration.nanoseconds(999_999).wholeMilliseconds == 0)
        #expect(Duration.seconds(-1.5).wholeMilliseconds == -1_500)
        #expect(Duration.microseconds(-2_999).wholeMilliseconds == -2)
    }
}
