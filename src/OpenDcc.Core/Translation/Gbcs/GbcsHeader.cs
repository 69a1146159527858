using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The parts of the GBCS grouping header a sender chooses (duis-and-dcc.md §1.7): the originator counter, which
/// must rise with every frame the originator sends under one key, and the originator and recipient system titles.
/// The direction and message code follow from what is encoded.
/// </summary>
public readonly record struct GbcsHeader(ulong Counter, Eui64 Originator, Eui64 Recipient);

/// <summary>The direction byte of the grouping header.</summary>
public enum GbcsDirection : byte
{
    /// <summary>Access control broker to device.</summary>
    Command = 0x01,

    /// <summary>Device to access control broker, answering a command.</summary>
    Response = 0x02,

    /// <summary>Device to access control broker, unasked.</summary>
    Alert = 0x03,

    /// <summary>A critical command: from a Known Remote Party (the supplier), signed by it, MACed by the access control broker.</summary>
    CriticalCommand = 0x04,
}
