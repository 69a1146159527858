using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Security;

/// <summary>Whether a request counter is new for its originator.</summary>
/// <param name="LastAccepted">The highest counter accepted before this one, if any.</param>
/// <param name="FollowsTransform">Accepted as the Signed Pre-Command of the Transform just accepted under the same RequestID (<see cref="CriticalStep"/>).</param>
public sealed record ReplayVerdict(bool Accepted, ulong? LastAccepted, bool FollowsTransform = false);

/// <summary>
/// A request of a critical command's two steps (duis-and-dcc.md §1.4): its Transform (CV 4), or the Signed Pre-Command
/// (CV 5, 6) made from the Transform's answer. DCC Boxed's own client sends the Signed Pre-Command under the
/// Transform's RequestID (the pre-command carries that counter), so that counter is accepted a second time, once,
/// for the Signed Pre-Command of the same SRV to the same device straight after its Transform.
/// </summary>
public readonly record struct CriticalStep(string ServiceReferenceVariant, bool IsTransform);

/// <summary>
/// A Transform accepted as its originator's last request, whose Signed Pre-Command has not come under its RequestID
/// yet: the device and SRV that Signed Pre-Command must be for (<see cref="CriticalStep"/>).
/// </summary>
public readonly record struct OpenTransform(Eui64 Target, string ServiceReferenceVariant);

/// <summary>An originator's replay state as durably recorded: its highest accepted counter, and the Transform accepted under it while still open.</summary>
public sealed record ReplayCounter(ulong Last, OpenTransform? OpenTransform = null);

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
    /// <param name="step">For a Transform or a Signed Pre-Command: which, and its SRV; null for any other request.</param>
    Task<ReplayVerdict> AcceptAsync(RequestId requestId, CriticalStep? step = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives back a counter accepted for a request that then was not carried out (its log entry was never written: the
    /// store away, the user gone): the originator's last counter is the one before it again (<see cref="ReplayVerdict.LastAccepted"/>),
    /// so the same signed request may be sent again, unless a later counter has been accepted since (which it then
    /// stays below); a Signed Pre-Command accepted under its Transform's RequestID may follow that Transform again.
    /// </summary>
    Task ReleaseAsync(RequestId requestId, ReplayVerdict verdict, CriticalStep? step = null);
}

/// <summary>
/// Each originator's highest accepted counter, as durably recorded. It only ever rises, and only with the message log
/// entry of the request that used it (<see cref="MessageLogRecord.AcceptedCounter"/>); with it, the Transform accepted
/// under it until its Signed Pre-Command follows (<see cref="MessageLogRecord.OpensTransform"/>,
/// <see cref="MessageLogRecord.ClosesTransform"/>), so that a restart keeps it open as the originator's grain held it.
/// </summary>
public interface IReplayCounterStore
{
    /// <returns>Null for an originator none of whose requests has been accepted.</returns>
    Task<ReplayCounter?> ReadAsync(Eui64 originator, CancellationToken cancellationToken = default);
}
