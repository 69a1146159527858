using System.Diagnostics.CodeAnalysis;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// The kinds of device the smart metering inventory holds, named by the codes DUIS uses for them
/// (the <c>DeviceType</c> of Read Inventory, SRV 8.2), so that <see cref="object.ToString"/> is the DUIS code.
/// </summary>
public enum DeviceType
{
    /// <summary>Electricity Smart Metering Equipment: the electricity meter.</summary>
    ESME,

    /// <summary>Gas Smart Metering Equipment: the gas meter.</summary>
    GSME,

    /// <summary>Communications Hub Function: the WAN side of the comms hub.</summary>
    CHF,

    /// <summary>Gas Proxy Function: the comms hub's stand-in for the battery-powered gas meter.</summary>
    GPF,

    /// <summary>Prepayment Interface Device.</summary>
    PPMID,

    /// <summary>HAN Connected Auxiliary Load Control Switch.</summary>
    HCALCS,

    /// <summary>In-Home Display.</summary>
    IHD,
}

public static class DeviceTypes
{
    /// <summary>Every device type, in the order DUIS lists them.</summary>
    public static IReadOnlyList<DeviceType> All { get; } = Enum.GetValues<DeviceType>();

    /// <summary>The type with its article as it is read aloud: an ESME, a GSME, an HCALCS, an IHD.</summary>
    public static string WithArticle(this DeviceType type) =>
        (type is DeviceType.ESME or DeviceType.HCALCS or DeviceType.IHD ? "an " : "a ") + type;

    public static DeviceType Parse(string code) =>
        TryParse(code, out var type, out var error) ? type : throw new FormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? code, out DeviceType type) => TryParse(code, out type, out _);

    /// <summary>Reads a DUIS device type code, ignoring case and surrounding space; numbers are not codes.</summary>
    public static bool TryParse([NotNullWhen(true)] string? code, out DeviceType type, [NotNullWhen(false)] out string? error)
    {
        var trimmed = code?.Trim();
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToString(), trimmed, StringComparison.OrdinalIgnoreCase))
            {
                type = candidate;
                error = null;
                return true;
            }
        }
        type = default;
        error = $"unknown device type '{code}'; expected one of {string.Join(", ", All)}";
        return false;
    }
}
