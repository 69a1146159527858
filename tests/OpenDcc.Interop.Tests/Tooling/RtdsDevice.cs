using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>The DUIS device types (XSD <c>DeviceType</c>) the RTDS templates address, or Unknown.</summary>
public enum RtdsDeviceType
{
    Unknown,
    Esme,
    Gsme,
    Gpf,
    Chf,
    Ppmid,
}

/// <summary>
/// A device the RTDS templates send requests to (a RequestID target that is not the DSP), with the device type its
/// service requests suggest. The type is a best guess for the test inventory, not a fact from the RTDS.
/// </summary>
/// <param name="ServiceReferenceVariants">The SRVs the templates send it, in catalogue order.</param>
public sealed record RtdsDevice(Eui64 Id, RtdsDeviceType Type, IReadOnlyList<string> ServiceReferenceVariants, int TemplateCount)
{
    // Rules in order; the first that matches names the type. Each set holds SRVs that only that device type
    // answers (DUIS SRV names), so one such request is enough.
    private static readonly (RtdsDeviceType Type, string[] Only)[] Rules =
    [
        (RtdsDeviceType.Gpf, ["8.12.2"]),                                                 // Restore Gas Proxy Function Device Log
        (RtdsDeviceType.Chf, ["6.28", "6.29", "6.30", "6.31", "6.32", "8.11", "8.12.1"]), // CHF Sub GHz; the CHF holds the HAN device log
        (RtdsDeviceType.Gsme, ["4.1.4", "6.2.8", "6.6", "6.7", "14.1"]),                  // block counters, gas configuration, conversion, flow, network data
        (RtdsDeviceType.Esme, ["4.1.3", "4.2", "4.6.2", "4.8.2", "4.8.3", "6.2.1", "6.5", "6.25", "7.1"]), // export, reactive, voltage, tamper, enable supply
    ];

    // A PPMID is joined to meters and has its firmware read, but takes no meter-specific request.
    private static readonly string[] PpmidServices = ["8.7.2", "8.8.2", "11.2"];

    /// <summary>
    /// The distinct targets of the templates, leaving out those that only receive non-device requests (the DSP,
    /// 90-B3-D5-1F-30-00-00-02, for 8.2, 8.3, 12.x …), in EUI-64 order.
    /// </summary>
    public static IReadOnlyList<RtdsDevice> From(IEnumerable<RtdsTemplate> templates, ServiceCatalogue catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        var order = catalogue.Variants.Select((v, i) => (v.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
        return [.. templates
            .GroupBy(t => t.RequestId.Target)
            .Where(g => g.Any(t => !catalogue[t.ServiceReferenceVariant].IsNonDevice))
            .Select(g =>
            {
                var srvs = g.Select(t => t.ServiceReferenceVariant).Distinct(StringComparer.Ordinal)
                    .OrderBy(s => order[s]).ToList();
                return new RtdsDevice(g.Key, Guess(srvs), srvs, g.Count());
            })
            .OrderBy(d => d.Id)];
    }

    private static RtdsDeviceType Guess(IReadOnlyList<string> srvs)
    {
        foreach (var (type, only) in Rules)
        {
            if (srvs.Any(only.Contains))
            {
                return type;
            }
        }
        return srvs.All(PpmidServices.Contains) && srvs.Contains("8.7.2") ? RtdsDeviceType.Ppmid : RtdsDeviceType.Unknown;
    }

    public override string ToString() =>
        $"{Id} {Type.ToString().ToUpperInvariant()} ({TemplateCount} templates: {string.Join(' ', ServiceReferenceVariants)})";
}
