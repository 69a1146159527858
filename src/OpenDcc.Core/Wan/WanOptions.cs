using NodaTime;

namespace OpenDcc.Core.Wan;

/// <summary>How commands go over the SM WAN.</summary>
/// <param name="AttemptTimeout">How long one attempt waits for the device's answer.</param>
/// <param name="Retries">Attempts after the first, each after <paramref name="RetryBackoff"/> times the attempt number.</param>
/// <param name="ConcurrencyPerRegion">Commands in flight at once per WAN region (North, Central, South).</param>
public sealed record WanOptions(Duration AttemptTimeout, int Retries, Duration RetryBackoff, int ConcurrencyPerRegion)
{
    public static WanOptions Default { get; } = new(Duration.FromSeconds(10), 2, Duration.FromSeconds(1), 256);

    /// <summary>
    /// Commands in flight at once per radio cell (the comms hub's cell in the inventory), within the region's
    /// limit: one busy cell cannot take its region's whole share of the provider.
    /// </summary>
    public int ConcurrencyPerCell { get; init; } = 32;
}
