using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>Whether a request counter is new for its originator.</summary>
/// <param name="LastAccepted">The highest counter accepted before this one, if any.</param>
public sealed record ReplayVerdict(bool Accepted, ulong? LastAccepted);

/// <summary>
/// DUIS replay protection: a RequestID counter must be strictly greater than the last one accepted from the same
/// originator. Accepting a counter is durable before the verdict returns, so a restart cannot reopen a replay.
/// </summary>
public interface IReplayGuard
{
    Task<ReplayVerdict> AcceptAsync(RequestId requestId, CancellationToken cancellationToken = default);
}

/// <summary>Where each originator's highest accepted counter is kept.</summary>
public interface IReplayCounterStore
{
    Task<ulong?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default);

    /// <summary>Raises the stored counter to <paramref name="counter"/> if it is higher (never lowers it).</summary>
    Task AdvanceAsync(Eui64 originator, ulong counter, CancellationToken cancellationToken = default);
}
