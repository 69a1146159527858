using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.EarlySmart;

/// <summary>
/// The only replay protection early-smart meters had: the sequence number on each line must rise, per device. The
/// head-end keeps one guard for the lines its meters send, a meter one for the lines the head-end sends. The check
/// proves nothing about who sent a line (there is no cryptography); it stops duplicates and stale retransmissions.
/// </summary>
public sealed class EarlySmartSequenceGuard
{
    private readonly RisingCounterGuard sequences = new();

    /// <summary>True and remembered if the sequence is above the last accepted for the header's device; false for a replay.</summary>
    public bool TryAccept(EarlySmartHeader header) => sequences.TryAccept(header.Device, header.Sequence);

    public ulong? LastAccepted(Eui64 device) => sequences.LastAccepted(device);
}
