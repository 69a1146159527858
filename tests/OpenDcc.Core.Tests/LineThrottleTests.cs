using NodaTime;

namespace OpenDcc.Core.Tests;

public class LineThrottleTests
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 30, 9, 0);

    [Fact]
    public void One_line_an_interval_the_events_between_counted_and_said_by_the_next_line_or_taken_for_a_line_of_their_own()
    {
        var lines = new LineThrottle(Duration.FromSeconds(10));

        Assert.True(lines.Occurred(T0, out var unsaid));
        Assert.Equal(0, unsaid);
        Assert.False(lines.Occurred(T0 + Duration.FromSeconds(1), out unsaid));
        Assert.Equal(1, unsaid);
        Assert.False(lines.Occurred(T0 + Duration.FromSeconds(9), out unsaid));
        Assert.Equal(2, unsaid);
        Assert.Equal(T0 + Duration.FromSeconds(10), lines.NextLineDue);

        Assert.True(lines.Occurred(T0 + Duration.FromSeconds(10), out unsaid));
        Assert.Equal(2, unsaid);

        Assert.False(lines.Occurred(T0 + Duration.FromSeconds(11), out _));
        Assert.Equal(1, lines.TakeUnsaid(T0 + Duration.FromSeconds(20)));
        Assert.Equal(0, lines.TakeUnsaid(T0 + Duration.FromSeconds(21)));
        // The line the taken count went into starts the next interval.
        Assert.False(lines.Occurred(T0 + Duration.FromSeconds(29), out _));
    }
}
