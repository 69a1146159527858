using NodaTime;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Duis;

/// <summary>
/// A device command the gateway acknowledged (I99) whose outcome has not yet been handed to delivery. The device
/// queues live in memory, so it is recorded durably beside them: with its request's message log entry
/// (<see cref="Security.MessageLogRecord.Acknowledges"/>), and cleared in the transaction that hands its outcome on (the
/// device's answer, E20/E21, or for 11.1 the DCC alert naming a device: <see cref="Security.MessageLogRecord.Answers"/>).
/// A hub that stops answers its queued commands as it goes; one that crashed finds them here when it starts again and
/// answers each with E21 (its outcome is not known).
/// </summary>
/// <param name="User">Who sent the request, and gets its answer.</param>
public sealed record UnansweredCommand(DeviceRequestReference Request, Eui64 User, Instant AcknowledgedAt)
{
    public CommandKey Key => new(Request.RequestId, Request.Device);
}

/// <summary>One device's command under one request (11.1 names several devices under one RequestID).</summary>
public readonly record struct CommandKey(RequestId RequestId, Eui64 Device);

/// <summary>The device commands acknowledged and not yet answered (<see cref="UnansweredCommand"/>).</summary>
public interface IUnansweredCommandStore
{
    /// <summary>Every one, or the oldest <paramref name="max"/>, oldest acknowledged first.</summary>
    Task<IReadOnlyList<UnansweredCommand>> ListAsync(int? max = null, CancellationToken cancellationToken = default);

    /// <summary>How many there are.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);
}
