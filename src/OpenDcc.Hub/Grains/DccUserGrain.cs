using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using Orleans.Concurrency;

namespace OpenDcc.Hub.Grains;

/// <summary>One per DCC user (keyed by the user's EUI-64): the user's per-request state, today its replay counter.</summary>
public interface IDccUserGrain : IGrainWithStringKey
{
    Task<CounterVerdict> AcceptCounterAsync(ulong counter);
}

[GenerateSerializer, Immutable]
public readonly record struct CounterVerdict([property: Id(0)] bool Accepted, [property: Id(1)] bool HadPrevious, [property: Id(2)] ulong Previous);

/// <summary>
/// Holds the user's highest accepted RequestID counter in memory, loaded from the store at activation and written
/// through before each acceptance returns, so a restart or a move to another silo cannot reopen a replay. Reentrant:
/// the check-and-raise happens without an await in between, so concurrent requests of one user are decided in order
/// while their durable writes overlap.
/// </summary>
[Reentrant]
internal sealed class DccUserGrain(IReplayCounterStore counters) : Grain, IDccUserGrain
{
    private Eui64 originator;
    private ulong? last;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        originator = Eui64.Parse(this.GetPrimaryKeyString());
        last = await counters.ReadAsync(originator, cancellationToken);
    }

    public async Task<CounterVerdict> AcceptCounterAsync(ulong counter)
    {
        var previous = last;
        if (previous is { } p && counter <= p)
        {
            return new CounterVerdict(false, true, p);
        }
        last = counter;
        try
        {
            await counters.AdvanceAsync(originator, counter);
        }
        catch
        {
            if (last == counter)
            {
                last = previous;
            }
            throw;
        }
        return new CounterVerdict(true, previous.HasValue, previous ?? 0);
    }
}

/// <summary>The gateway's replay guard, answered by the originator's <see cref="IDccUserGrain"/>.</summary>
internal sealed class OrleansReplayGuard(IGrainFactory grains) : IReplayGuard
{
    // A grain reference is an immutable address; making one parses its key and resolves its type each time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Eui64, IDccUserGrain> references = new();

    public async Task<ReplayVerdict> AcceptAsync(RequestId requestId, CancellationToken cancellationToken = default)
    {
        var grain = references.GetOrAdd(requestId.Originator, static (id, factory) => factory.GetGrain<IDccUserGrain>(id.ToString()), grains);
        var verdict = await grain.AcceptCounterAsync(requestId.Counter).WaitAsync(cancellationToken);
        return new ReplayVerdict(verdict.Accepted, verdict.HadPrevious ? verdict.Previous : null);
    }
}
