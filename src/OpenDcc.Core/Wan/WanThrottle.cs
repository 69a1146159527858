using System.Collections.Concurrent;

namespace OpenDcc.Core.Wan;

/// <summary>
/// Limits the commands in flight on the SM WAN per region, so that one region's backlog cannot swamp its provider
/// and other regions keep flowing, and per radio cell within it, so that one crowded cell cannot take its region's
/// whole share. A command takes its cell's slot first, then its region's: a command waiting for its region holds
/// back only its own cell, never another cell's commands. A cell's gate exists only while commands for it wait or
/// are in flight; an idle cell costs nothing. No lock is held while a command is on the WAN.
/// </summary>
public sealed class WanThrottle : IDisposable
{
    private readonly SemaphoreSlim[] regions;
    private readonly ConcurrentDictionary<string, CellGate> cells = new(StringComparer.Ordinal);
    private readonly int concurrencyPerCell;

    /// <exception cref="ArgumentOutOfRangeException">a concurrency below 1.</exception>
    public WanThrottle(int concurrencyPerRegion, int concurrencyPerCell)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrencyPerRegion, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrencyPerCell, 1);
        this.concurrencyPerCell = concurrencyPerCell;
        regions = [.. Enum.GetValues<WanRegion>().Select(_ => new SemaphoreSlim(concurrencyPerRegion, concurrencyPerRegion))];
    }

    public WanThrottle(WanOptions options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).ConcurrencyPerRegion, options.ConcurrencyPerCell)
    {
    }

    /// <summary>The radio cells with commands waiting or in flight.</summary>
    public int ActiveCells => cells.Count;

    /// <summary>Waits for a slot in the cell (when known) and in the region; dispose the result to give them back.</summary>
    /// <param name="cell">The comms hub's radio cell; null when not known (only the region's limit applies).</param>
    public async ValueTask<WanSlot> EnterAsync(WanRegion region, string? cell, CancellationToken cancellationToken)
    {
        var regionGate = regions[(int)region];
        CellGate? cellGate = null;
        if (cell is not null)
        {
            cellGate = Join(cell);
            try
            {
                await cellGate.Slots.WaitAsync(cancellationToken);
            }
            catch
            {
                Leave(cell, cellGate);
                throw;
            }
        }
        try
        {
            await regionGate.WaitAsync(cancellationToken);
        }
        catch
        {
            if (cellGate is not null)
            {
                cellGate.Slots.Release();
                Leave(cell!, cellGate);
            }
            throw;
        }
        return new WanSlot(this, regionGate, cell, cellGate);
    }

    public void Dispose()
    {
        foreach (var gate in regions)
        {
            gate.Dispose();
        }
    }

    /// <summary>The cell's gate, counted as used until <see cref="Leave"/>; a gate whose last user has left is retired and replaced.</summary>
    private CellGate Join(string cell)
    {
        while (true)
        {
            var gate = cells.GetOrAdd(cell, static (_, limit) => new CellGate(limit), concurrencyPerCell);
            if (gate.TryJoin())
            {
                return gate;
            }
            // Retired by its last user, who is removing it: help, then take a fresh one.
            cells.TryRemove(KeyValuePair.Create(cell, gate));
        }
    }

    internal void Leave(string cell, CellGate gate)
    {
        if (gate.LeaveAsLast())
        {
            cells.TryRemove(KeyValuePair.Create(cell, gate));
            gate.Dispose();
        }
    }

    /// <summary>A cell's slots, and how many commands wait for or hold one (−1: retired, no longer in the table).</summary>
    internal sealed class CellGate(int limit) : IDisposable
    {
        private int users;

        public SemaphoreSlim Slots { get; } = new(limit, limit);

        public bool TryJoin()
        {
            int seen;
            do
            {
                seen = Volatile.Read(ref users);
                if (seen < 0)
                {
                    return false;
                }
            }
            while (Interlocked.CompareExchange(ref users, seen + 1, seen) != seen);
            return true;
        }

        /// <summary>Whether this was the last user, who retires the gate (no one can join it after).</summary>
        public bool LeaveAsLast() => Interlocked.Decrement(ref users) == 0 && Interlocked.CompareExchange(ref users, -1, 0) == 0;

        public void Dispose() => Slots.Dispose();
    }
}

/// <summary>A command's place in its region and cell.</summary>
public readonly struct WanSlot : IDisposable
{
    private readonly WanThrottle? throttle;
    private readonly SemaphoreSlim? region;
    private readonly string? cell;
    private readonly WanThrottle.CellGate? cellGate;

    internal WanSlot(WanThrottle throttle, SemaphoreSlim region, string? cell, WanThrottle.CellGate? cellGate)
    {
        this.throttle = throttle;
        this.region = region;
        this.cell = cell;
        this.cellGate = cellGate;
    }

    /// <summary>Gives the slots back; call once.</summary>
    public void Dispose()
    {
        try
        {
            region?.Release();
            if (cellGate is not null)
            {
                cellGate.Slots.Release();
                throttle!.Leave(cell!, cellGate);
            }
        }
        catch (ObjectDisposedException)
        {
            // The throttle went first (the hub stopping with this command in flight): there is nothing to give back to.
        }
    }
}
