using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using Orleans.Concurrency;

namespace OpenDcc.Hub.Grains;

/// <summary>One per DCC user (keyed by the user's EUI-64): the user's per-request state, today its replay counter.</summary>
public interface IDccUserGrain : IGrainWithStringKey
{
    /// <param name="transformStep">For a Transform (true) or a Signed Pre-Command (false): see <see cref="CriticalStep"/>; null otherwise.</param>
    /// <param name="target">The RequestID's target, and <paramref name="variant"/> its SRV: what ties a Signed Pre-Command to its Transform.</param>
    Task<CounterVerdict> AcceptCounterAsync(ulong counter, bool? transformStep, Eui64 target, string? variant);

    /// <summary>
    /// The counter back to <paramref name="previous"/> if <paramref name="counter"/> is still the last accepted; a
    /// Signed Pre-Command that followed its Transform gives that Transform back its follower.
    /// </summary>
    Task ReleaseCounterAsync(ulong counter, ulong? previous, bool followedTransform, Eui64 target, string? variant);
}

[GenerateSerializer, Immutable]
public readonly record struct CounterVerdict([property: Id(0)] bool Accepted, [property: Id(1)] bool HadPrevious, [property: Id(2)] ulong Previous, [property: Id(3)] bool FollowsTransform);

/// <summary>
/// Holds the user's highest accepted RequestID counter in memory, loaded at activation from the store, where the
/// message log entry of each accepted request raises it (<see cref="Core.Security.MessageLogRecord.AcceptedCounter"/>;
/// the gateway commits that entry before the request has any effect, see <see cref="IReplayGuard"/>). An acceptance
/// raises the counter here at once, so the user's next requests are decided against it however long its log entry
/// takes. A counter accepted here whose entry never reached the log (the store away, the user gone, the hub stopped
/// first) is given back at once, or after a restart: its request had no effect and was never answered. The Transform
/// last accepted, while its Signed Pre-Command has not come under its RequestID (<see cref="CriticalStep"/>), is kept
/// the same way (<see cref="Core.Security.MessageLogRecord.OpensTransform"/>), so it stays open across a restart.
/// </summary>
internal sealed class DccUserGrain(IReplayCounterStore counters) : Grain, IDccUserGrain
{
    private ulong? last;

    // The device and SRV of the Transform accepted under the last counter, until its Signed Pre-Command comes under it.
    private OpenTransform? openTransform;

    // The last counter once a Signed Pre-Command has been accepted under it too: the Transform's giving it back (its
    // request not logged) must not lower it then, or the Signed Pre-Command could be replayed.
    private ulong? followed;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stored = await counters.ReadAsync(Eui64.Parse(this.GetPrimaryKeyString()), cancellationToken);
        (last, openTransform) = (stored?.Last, stored?.OpenTransform);
    }

    public Task<CounterVerdict> AcceptCounterAsync(ulong counter, bool? transformStep, Eui64 target, string? variant)
    {
        var previous = last;
        if (previous is { } p && counter <= p)
        {
            if (counter == p && transformStep == false && variant is not null && openTransform == new OpenTransform(target, variant))
            {
                (openTransform, followed) = (null, p);
                return Task.FromResult(new CounterVerdict(true, true, p, FollowsTransform: true));
            }
            return Task.FromResult(new CounterVerdict(false, true, p, false));
        }
        (last, followed) = (counter, null);
        openTransform = transformStep == true ? new OpenTransform(target, variant!) : null;
        return Task.FromResult(new CounterVerdict(true, previous.HasValue, previous ?? 0, false));
    }

    public Task ReleaseCounterAsync(ulong counter, ulong? previous, bool followedTransform, Eui64 target, string? variant)
    {
        if (last == counter)
        {
            if (followedTransform)
            {
                (openTransform, followed) = (new OpenTransform(target, variant!), null);
            }
            else if (followed != counter)
            {
                (last, openTransform) = (previous, null);
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>The gateway's replay guard, answered by the originator's <see cref="IDccUserGrain"/>.</summary>
internal sealed class OrleansReplayGuard(IGrainFactory grains) : IReplayGuard
{
    // A grain reference is an immutable address; making one parses its key and resolves its type each time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Eui64, IDccUserGrain> references = new();

    public async Task<ReplayVerdict> AcceptAsync(RequestId requestId, CriticalStep? step = null, CancellationToken cancellationToken = default)
    {
        var verdict = await GrainOf(requestId).AcceptCounterAsync(requestId.Counter, step?.IsTransform, requestId.Target, step?.ServiceReferenceVariant).WaitAsync(cancellationToken);
        return new ReplayVerdict(verdict.Accepted, verdict.HadPrevious ? verdict.Previous : null, verdict.FollowsTransform);
    }

    public Task ReleaseAsync(RequestId requestId, ReplayVerdict verdict, CriticalStep? step = null)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return GrainOf(requestId).ReleaseCounterAsync(requestId.Counter, verdict.LastAccepted, verdict.FollowsTransform, requestId.Target, step?.ServiceReferenceVariant);
    }

    private IDccUserGrain GrainOf(RequestId requestId) =>
        references.GetOrAdd(requestId.Originator, static (id, factory) => factory.GetGrain<IDccUserGrain>(id.ToString()), grains);
}
