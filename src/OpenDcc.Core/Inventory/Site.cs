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
    public string? PostCode { get; }

    public string? AddressIdentifier { get; }

    /// <summary>The supplier that leads the premises (the one that installs the comms hub), when known.</summary>
    public Eui64? LeadSupplier { get; }

    /// <summary>
    /// A post code as OpenDcc keeps it: spaces removed, upper case, then one space before the last three characters
    /// (the inward code), so <c>sw1a1aa</c>, <c>SW1A 1AA</c> and <c>SW1A  1AA</c> are one post code.
    /// </summary>
    /// <exception cref="ArgumentException">not 5 to 7 letters and digits (DUIS allows 6–8 characters with the space).</exception>
    public static string? NormalisePostCode(string? postCode)
    {
        if (string.IsNullOrWhiteSpace(postCode))
        {
            return null;
        }
        var squeezed = string.Concat(postCode.Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();
        if (squeezed.Length is < 5 or > 7 || !squeezed.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"post code '{postCode.Trim()}' is not 5 to 7 letters and digits", nameof(postCode));
        }
        return $"{squeezed[..^3]} {squeezed[^3..]}";
    }
}
