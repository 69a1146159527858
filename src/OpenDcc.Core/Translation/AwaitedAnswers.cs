using System.Collections.Concurrent;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The answer each device owes: the counter of the command in flight to it, which its answer must carry (as a GBCS
/// response carries its command's transaction counter). An answer is accepted once, and only to the command in
/// flight, so a replayed or stale answer is refused with nothing kept for a device between commands: an idle device
/// costs no memory here.
/// </summary>
internal sealed class AwaitedAnswers
{
    private readonly ConcurrentDictionary<Eui64, ulong> awaited = new();

    /// <summary>A command with <paramref name="counter"/> is going to <paramref name="device"/>; its answer is awaited.</summary>
    public void Expect(Eui64 device, ulong counter) => awaited[device] = counter;

    /// <summary>True, once, when <paramref name="counter"/> is that of the command in flight to <paramref name="device"/>.</summary>
    public bool TryAccept(Eui64 device, ulong counter) => awaited.TryRemove(new KeyValuePair<Eui64, ulong>(device, counter));

    /// <summary>The counter of the command in flight to the device; null when none.</summary>
    public ulong? Awaited(Eui64 device) => awaited.TryGetValue(device, out var counter) ? counter : null;

    /// <summary>Stops awaiting an answer from the device (its queue went idle without one).</summary>
    public void Forget(Eui64 device) => awaited.TryRemove(device, out _);
}
