using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// Premises in the smart metering inventory, named as DUIS names them: by UPRN, or by a post code and an address
/// identifier (Read Inventory's <c>PropertyFilter</c>), with the DCC user that leads the site (its lead supplier).
/// </summary>
public sealed record Site
{
    public Site(Uprn uprn, string? postCode = null, string? addressIdentifier = null, Eui64? leadSupplier = null)
    {
        if (uprn.Value == 0)
        {
            throw new ArgumentException("a site needs a UPRN", nameof(uprn));
        }
        Uprn = uprn;
        PostCode = NormalisePostCode(postCode);
        AddressIdentifier = string.IsNullOrWhiteSpace(addressIdentifier) ? null : addressIdentifier.Trim();
        if (AddressIdentifier is { Length: > 30 })
        {
            throw new ArgumentException($"address identifier '{AddressIdentifier}' is longer than DUIS's 30 characters", nameof(addressIdentifier));
        }
        LeadSupplier = leadSupplier;
    }

    public Uprn Uprn { get; }

    /// <summary>Upper case with one space before the three-character inward code (<c>SW1A 1AA</c>).</summary>
    public string? PostCode { get; private init; }

    /// <summary>
    /// A site as a store holds it: its post code as stored, not checked again, so that one saved before post codes had
    /// to have a UK post code's shape is still read (and shown, and replaced by the operator) rather than failing every read.
    /// </summary>
    public static Site Stored(Uprn uprn, string? postCode, string? addressIdentifier, Eui64? leadSupplier) =>
        new(uprn, null, addressIdentifier, leadSupplier) { PostCode = postCode };

    public string? AddressIdentifier { get; }

    /// <summary>The supplier that leads the premises (the one that installs the comms hub), when known.</summary>
    public Eui64? LeadSupplier { get; }

    /// <summary>
    /// A post code as OpenDcc keeps it (<see cref="Identifiers.PostCode.Normalise"/>): white space removed, upper case,
    /// then one space before the inward code, so <c>sw1a1aa</c>, <c>SW1A 1AA</c> and <c>SW1A  1AA</c> are one post code.
    /// </summary>
    /// <exception cref="ArgumentException">not a UK post code's shape (<see cref="Identifiers.PostCode"/>).</exception>
    public static string? NormalisePostCode(string? postCode) =>
        string.IsNullOrWhiteSpace(postCode) ? null
        : Identifiers.PostCode.Normalise(postCode)
            ?? throw new ArgumentException($"post code '{Excerpt.Of(postCode.Trim())}' is not a UK post code: {Identifiers.PostCode.Shape}", nameof(postCode));
}
