namespace OpenDcc.Core.Catalogue;

/// <summary>When the response to a future-dated request comes from (DUIS matrix "Future Dated Response Pattern").</summary>
public enum FutureDatedResponsePattern
{
    None,
    Dsp,
    Device,
    DspAndDevice,
}

/// <summary>
/// One DUIS service reference variant (SRV), e.g. 4.1.1 Read Instantaneous Import Registers, with the facts
/// access control and routing need.
/// </summary>
/// <param name="Id">The variant as DUIS writes it, e.g. <c>4.1.1</c>.</param>
/// <param name="ServiceReference">The service reference it belongs to, e.g. <c>4.1</c>.</param>
/// <param name="IsCritical">Needs the user's GBCS signature: Transform (CV 4) then a Signed Pre-Command.</param>
/// <param name="IsDccSchedulable">May be run by the DCC on a schedule (SRV 5.1).</param>
/// <param name="IsNonDevice">Answered by the DCC itself, not sent to a device.</param>
/// <param name="EligibleRoles">The user roles that may send it; empty for 7.16, 8.5 and 8.6 in the matrix.</param>
/// <param name="BodyElement">The local name of the request's <c>sr:Body</c> child, e.g. <c>ReadInstantaneousImportRegisters</c>.</param>
public sealed record ServiceReferenceVariant(
    string Id,
    string Name,
    string ServiceReference,
    bool IsCritical,
    FutureDatedResponsePattern FutureDatedResponsePattern,
    bool IsDccSchedulable,
    bool IsNonDevice,
    DccUserRole EligibleRoles,
    string BodyElement)
{
    public bool IsEligibleFor(DccUserRole roles) => (EligibleRoles & roles) != 0;

    public override string ToString() => $"{Id} {Name}";
}
