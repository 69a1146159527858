using System.Collections.Concurrent;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The answer each device owes: the counter of the command in flight to it, which its answer must carry (as a GBCS
/// response carries its command's transaction counter), and for a format whose answers name whom they go to, the
/// party that sent the command (the ACB, or the remote party that signed a critical command). An answer is accepted
/// once, and only to the command in flight, so a replayed or stale answer is refused with nothing kept for a device
/// between commands: an idle device costs no memory here.
/// </summary>
internal sealed class AwaitedAnswers
{
    private readonly ConcurrentDictionary<Eui64, (ulong Counter, Eui64? Party)> awaited = new();

    /// <summary>A command with <paramref name="counter"/> from <paramref name="party"/> (null: the format names none) is going to <paramref name="device"/>; its answer is awaited.</summary>
    public void Expect(Eui64 device, ulong counter, Eui64? party = null) => awaited[device] = (counter, party);

    /// <summary>True, once, when <paramref name="counter"/> and <paramref name="party"/> are those of the command in flight to <paramref name="device"/>.</summary>
    public bool TryAccept(Eui64 device, ulong counter, Eui64? party = null) => awaited.TryRemove(new KeyValuePair<Eui64, (ulong, Eui64?)>(device, (counter, party)));

    /// <summary>The counter of the command in flight to the device; null when none.</summary>
    public ulong? Awaited(Eui64 device) => awaited.TryGetValue(device, out var command) ? command.Counter : null;

    /// <summary>Stops awaiting an answer from the device (its queue went idle without one).</summary>
    public void Forget(Eui64 device) => awaited.TryRemove(device, out _);
}
