using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Tests.Wan;

public class WanThrottleTests
{
    [Fact]
    public async Task Commands_in_one_radio_cell_never_exceed_the_cell_limit_while_other_cells_flow_beside_them()
    {
        using var throttle = new WanThrottle(concurrencyPerRegion: 100, concurrencyPerCell: 2);
        var wan = new SlowWan(TimeSpan.FromMilliseconds(30));

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => wan.ExchangeAsync(throttle, WanRegion.North, i % 2 == 0 ? "N-1" : "N-2")));

        Assert.Equal(2, wan.MostInFlight("N-1"));
        Assert.Equal(2, wan.MostInFlight("N-2"));
        Assert.Equal(4, wan.MostInFlightAtOnce);
    }

    [Fact]
    public async Task The_region_limit_holds_across_all_its_cells()
    {
        using var throttle = new WanThrottle(concurrencyPerRegion: 3, concurrencyPerCell: 2);
        var wan = new SlowWan(TimeSpan.FromMilliseconds(30));

        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => wan.ExchangeAsync(throttle, WanRegion.South, $"S-{i % 3}")));

        Assert.Equal(3, wan.MostInFlightAtOnce);
        Assert.All(["S-0", "S-1", "S-2"], cell => Assert.InRange(wan.MostInFlight(cell), 1, 2));
    }

    [Fact]
    public async Task A_command_with_no_radio_cell_is_limited_by_its_region_alone()
    {
        using var throttle = new WanThrottle(concurrencyPerRegion: 5, concurrencyPerCell: 1);
        var wan = new SlowWan(TimeSpan.FromMilliseconds(30));

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => wan.ExchangeAsync(throttle, WanRegion.Central, null)));

        Assert.Equal(5, wan.MostInFlightAtOnce);
        Assert.Equal(0, throttle.ActiveCells);
    }

    [Fact]
    public async Task A_cell_keeps_a_gate_only_while_its_commands_wait_or_are_in_flight()
    {
        using var throttle = new WanThrottle(concurrencyPerRegion: 10, concurrencyPerCell: 1);
        var wan = new SlowWan(TimeSpan.Zero);

        var held = new List<WanSlot>();
        foreach (var i in Enumerable.Range(0, 3))
        {
            held.Add(await throttle.EnterAsync(WanRegion.North, $"cell-{i}", CancellationToken.None));
        }
        Assert.Equal(3, throttle.ActiveCells);
        held.ForEach(slot => slot.Dispose());

        Assert.Equal(0, throttle.ActiveCells);
        // The same cells again, busy or not: a fresh gate each time, and the limit still holds.
        await Task.WhenAll(Enumerable.Range(0, 1_000).Select(i => wan.ExchangeAsync(throttle, WanRegion.North, $"cell-{i % 3}")));
        Assert.Equal(0, throttle.ActiveCells);
        Assert.Equal(1, wan.MostInFlight("cell-0"));
    }

    [Fact]
    public async Task A_command_given_up_while_waiting_for_its_cell_leaves_the_cell_as_it_found_it()
    {
        using var throttle = new WanThrottle(concurrencyPerRegion: 10, concurrencyPerCell: 1);
        var wan = new SlowWan(TimeSpan.FromMilliseconds(20));
        var holding = await throttle.EnterAsync(WanRegion.North, "N-9", CancellationToken.None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await throttle.EnterAsync(WanRegion.North, "N-9", timeout.Token));
        Assert.Equal(1, throttle.ActiveCells);
        holding.Dispose();

        Assert.Equal(0, throttle.ActiveCells);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => wan.ExchangeAsync(throttle, WanRegion.North, "N-9")));
        Assert.Equal(1, wan.MostInFlight("N-9"));
        Assert.Equal(0, throttle.ActiveCells);
    }

    /// <summary>A WAN whose exchanges take a while, counting how many are in flight at once, per cell and in all.</summary>
    private sealed class SlowWan(TimeSpan latency)
    {
        private readonly Dictionary<string, (int Now, int Most)> perCell = [];
        private readonly Lock gate = new();
        private int now;

        public int MostInFlightAtOnce { get; private set; }

        public int MostInFlight(string cell)
        {
            lock (gate)
            {
                return perCell.TryGetValue(cell, out var counts) ? counts.Most : 0;
            }
        }

        public async Task ExchangeAsync(WanThrottle throttle, WanRegion region, string? cell)
        {
            using (await throttle.EnterAsync(region, cell, CancellationToken.None))
            {
                Count(cell, +1);
                await Task.Delay(latency);
                Count(cell, -1);
            }
        }

        private void Count(string? cell, int change)
        {
            lock (gate)
            {
                now += change;
                MostInFlightAtOnce = Math.Max(MostInFlightAtOnce, now);
                if (cell is not null)
                {
                    var counts = perCell.GetValueOrDefault(cell);
                    var inFlight = counts.Now + change;
                    perCell[cell] = (inFlight, Math.Max(counts.Most, inFlight));
                }
            }
        }
    }

    [Fact]
    public async Task A_slot_given_back_after_its_throttle_was_disposed_is_let_go_quietly()
    {
        // The hub stopping with a command in flight: its throttle goes before the command's slot comes back.
        var throttle = new WanThrottle(concurrencyPerRegion: 2, concurrencyPerCell: 1);
        var slot = await throttle.EnterAsync(WanRegion.North, "cell-1", CancellationToken.None);
        throttle.Dispose();

        var fault = Record.Exception(slot.Dispose);

        Assert.Null(fault);
    }
}
