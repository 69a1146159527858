using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using Orleans.Concurrency;

namespace OpenDcc.Hub.Grains;

/// <summary>One per DCC user (keyed by the user's EUI-64): the user's per-request state, today its replay counter.</summary>
public interface IDccUserGrain : IGrainWithStringKey
{
    Task<CounterVerdict> AcceptCounterAsync(ulong counter);

    /// <summary>The counter back to <paramref name="previous"/> if <paramref name="counter"/> is still the last accepted.</summary>
    Task ReleaseCounterAsync(ulong counter, ulong? previous);
}

[GenerateSerializer, Immutable]
public readonly record struct CounterVerdict([property: Id(0)] bool Accepted, [property: Id(1)] bool HadPrevious, [property: Id(2)] ulong Previous);

/// <summary>
/// Holds the user's highest accepted RequestID counter in memory, loaded at activation from the store, where the
/// message log entry of each accepted request raises it (<see cref="Core.Security.MessageLogRecord.AcceptedCounter"/>;
/// the gateway commits that entry before the request has any effect, see <see cref="IReplayGuard"/>). An acceptance
/// raises the counter here at once, so the user's next requests are decided against it however long its log entry
/// takes. A counter accepted here whose entry never reached the log (the store away, the user gone, the hub stopped
/// first) is given back at once, or after a restart: its request had no effect and was never answered.
/// </summary>
internal sealed class DccUserGrain(IReplayCounterStore counters) : Grain, IDccUserGrain
{
    private ulong? last;

    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        last = await counters.ReadAsync(Eui64.Parse(this.GetPrimaryKeyString()), cancellationToken);

    public Task<CounterVerdict> AcceptCounterAsync(ulong counter)
    {
        var previous = last;
        if (previous is { } p && counter <= p)
        {
            return Task.FromResult(new CounterVerdict(false, true, p));
        }
        last = counter;
        return Task.FromResult(new CounterVerdict(true, previous.HasValue, previous ?? 0));
    }

    public Task ReleaseCounterAsync(ulong counter, ulong? previous)
    {
        if (last == counter)
        {
            last = previous;
        }
        return Task.CompletedTask;
    }
}

/// <summary>The gateway's replay guard, answered by the originator's <see cref="IDccUserGrain"/>.</summary>
internal sealed class OrleansReplayGuard(IGrainFactory grains) : IReplayGuard
{
    // A grain reference is an immutable address; making one parses its key and resolves its type each time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Eui64, IDccUserGrain> references = new();

    public async Task<ReplayVerdict> AcceptAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        var verdict = await GrainOf(requestId).AcceptCounterAsync(requestId.Counter).WaitAsync(cancellationToken);
        return new ReplayVerdict(verdict.Accepted, verdict.HadPrevious ? verdict.Previous : null);
    }

    public Task ReleaseAsync(RequestId requestId, ulong? lastAccepted) => GrainOf(requestId).ReleaseCounterAsync(requestId.Counter, lastAccepted);

    private IDccUserGrain GrainOf(RequestId requestId) =>
        references.GetOrAdd(requestId.Originator, static (id, factory) => factory.GetGrain<IDccUserGrain>(id.ToString()), grains);
}
