namespace OpenDcc.Core.Wan;

/// <summary>The three SM WAN regions of GB, each served by its own communications service provider.</summary>
public enum WanRegion
{
    North,
    Central,
    South,
}

/// <summary>
/// Limits the commands in flight per WAN region, so that one region's backlog cannot swamp its provider and
/// other regions keep flowing.
/// </summary>
public sealed class WanRegionThrottle(int concurrencyPerRegion) : IDisposable
{
    private readonly SemaphoreSlim[] gates = [.. Enum.GetValues<WanRegion>().Select(_ => new SemaphoreSlim(concurrencyPerRegion, concurrencyPerRegion))];

    /// <summary>Waits for a slot in the region; dispose the result to give it back.</summary>
    public async Task<IDisposable> EnterAsync(WanRegion region, CancellationToken cancellationToken)
    {
        var gate = gates[(int)region];
        await gate.WaitAsync(cancellationToken);
        return new Slot(gate);
    }

    public void Dispose()
    {
        foreach (var gate in gates)
        {
            gate.Dispose();
        }
    }

    private sealed class Slot(SemaphoreSlim gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
