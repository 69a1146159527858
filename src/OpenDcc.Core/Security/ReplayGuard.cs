using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>Whether a request counter is new for its originator.</summary>
/// <param name="LastAccepted">The highest counter accepted before this one, if any.</param>
public sealed record ReplayVerdict(bool Accepted, ulong? LastAccepted);

/// <summary>
/// DUIS replay protection: a RequestID counter must be strictly greater than the last one accepted from the same
/// originator.
/// </summary>
/// <remarks>
/// An accepted counter is raised at once in memory, so the originator's later requests are decided against it, and
/// made durable by the message log entry of its request (<see cref="MessageLogRecord.AcceptedCounter"/>). The gateway
/// commits that entry before it queues the request for its device or answers, so no request that had any effect can
/// be accepted again after a restart.
/// </remarks>
public interface IReplayGuard
{
    Task<ReplayVerdict> AcceptAsync(RequestId requestId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives back a counter accepted for a request that then was not carried out (its log entry was never written: the
    /// store away, the user gone): the originator's last counter is <paramref name="lastAccepted"/> again, so the same
    /// signed request may be sent again, unless a later counter has been accepted since (which it then stays below).
    /// </summary>
    Task ReleaseAsync(RequestId requestId, ulong? lastAccepted);
}

/// <summary>
/// Each originator's highest accepted counter, as durably recorded. It only ever rises, and only with the message log
/// entry of the request that used it (<see cref="MessageLogRecord.AcceptedCounter"/>).
/// </summary>
public interface IReplayCounterStore
{
    Task<ulong?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default);
}
