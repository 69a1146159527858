using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// GBCS replay protection (duis-and-dcc.md §1.7): a receiver keeps, per originator system title, the last originator
/// counter it accepted and refuses a frame whose counter is not greater. Call it only for frames whose MAC has been
/// verified, so a forged frame cannot push the floor up.
/// </summary>
public sealed class GbcsCounterGuard
{
    private readonly RisingCounterGuard counters = new();

    /// <summary>True and remembered if <paramref name="header"/>'s counter is above the last accepted from its originator; false for a replay.</summary>
    public bool TryAccept(GbcsHeader header) => counters.TryAccept(header.Originator, header.Counter);

    public ulong? LastAccepted(Eui64 originator) => counters.LastAccepted(originator);
}
