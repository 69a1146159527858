using System.Diagnostics.CodeAnalysis;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// A device's Smart Metering Inventory status, as DUIS writes it (<c>DeviceStatus</c> in Read Inventory, SRV 8.2).
/// Access control answers E5 when a request does not suit the device's status.
/// </summary>
public enum SmiStatus
{
    /// <summary>Known to the inventory from the manufacturer's or supplier's notification, not yet installable.</summary>
    Pending,

    /// <summary>On the comms hub's whitelist, so it may join the HAN.</summary>
    Whitelisted,

    /// <summary>Installed at the premises but not yet commissioned.</summary>
    InstalledNotCommissioned,

    /// <summary>In service: most service requests apply only now.</summary>
    Commissioned,

    /// <summary>Taken out of service.</summary>
    Decommissioned,

    /// <summary>Withdrawn from DCC services.</summary>
    Withdrawn,

    /// <summary>Suspended from DCC services.</summary>
    Suspended,

    /// <summary>Its security credentials are being recovered.</summary>
    Recovery,

    /// <summary>Its security credentials have been recovered.</summary>
    Recovered,
}

public static class SmiStatuses
{
    /// <summary>Every status, in life-cycle order.</summary>
    public static IReadOnlyList<SmiStatus> All { get; } = Enum.GetValues<SmiStatus>();

    public static SmiStatus Parse(string text) =>
        TryParse(text, out var status, out var error) ? status : throw new FormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, out SmiStatus status) => TryParse(text, out status, out _);

    /// <summary>
    /// Reads a status ignoring case, spaces, hyphens and underscores, so <c>InstalledNotCommissioned</c>,
    /// <c>installed-not-commissioned</c> and <c>Installed Not Commissioned</c> are the same; numbers are not statuses.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out SmiStatus status, [NotNullWhen(false)] out string? error)
    {
        var squeezed = text is null ? null : string.Concat(text.Where(c => c is not ('-' or '_') && !char.IsWhiteSpace(c)));
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToString(), squeezed, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                error = null;
                return true;
            }
        }
        status = default;
        error = $"unknown SMI status '{text}'; expected one of {string.Join(", ", All)}";
        return false;
    }
}
