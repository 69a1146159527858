using NodaTime;

namespace OpenDcc.Core.SmartGrid;

/// <summary>How smart-grid reads run.</summary>
/// <param name="DefaultDeadline">How long an aggregate waits for meters when the request names no deadline; it then answers with what it has.</param>
/// <param name="MaxDeadline">The longest deadline a request may ask for.</param>
/// <param name="Concurrency">How many meters of one aggregate are being read at once; the rest wait their turn.</param>
public sealed record SmartGridOptions(Duration DefaultDeadline, Duration MaxDeadline, int Concurrency)
{
    public static SmartGridOptions Default { get; } = new(Duration.FromSeconds(30), Duration.FromMinutes(10), 256);
}
