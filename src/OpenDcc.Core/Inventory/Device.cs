using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Inventory;

/// <summary>
/// A device in the smart metering inventory: what the DUIS gateway needs to know a request's target exists (E19),
/// what kind it is (E11), where it is in its life (E5), its manufacturer and model (the model picks the translation
/// adapter), firmware, the comms hub and WAN region its commands go through (and, for a hub, its radio cell), the
/// metering point (MPAN or MPRN) it serves (an ESME also a secondary import and an export MPAN) and the premises it is at. Its SMI status history and HAN joins are kept
/// beside it (<see cref="IInventoryStore.StatusHistoryAsync"/>, <see cref="IInventoryStore.FindJoinedAsync"/>).
/// </summary>
public sealed record Device
{
    public Device(Eui64 id, DeviceType type, SmiStatus status)
    {
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a device type");
        }
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "not an SMI status");
        }
        Id = id;
        Type = type;
        this.status = status;
    }

    public Eui64 Id { get; }

    public DeviceType Type { get; }

    /// <summary>
    /// The details given that a device of this type cannot have, each with why, named by the property (an MPAN on a gas
    /// meter, an MPRN on an electricity meter, a radio cell on anything but a comms hub, one MPAN in two of a meter's
    /// roles, a device its own comms hub or a comms hub joined to another); empty when every detail fits.
    /// </summary>
    public IEnumerable<(string Property, string Fault)> Misfits()
    {
        if (Mpan is not null && Type != DeviceType.ESME)
        {
            yield return (nameof(Mpan), $"only an ESME serves an MPAN, not {Type.WithArticle()}");
        }
        if (SecondaryImportMpan is not null && Type != DeviceType.ESME)
        {
            yield return (nameof(SecondaryImportMpan), $"only an ESME serves a secondary import or export MPAN, not {Type.WithArticle()}");
        }
        if (ExportMpan is not null && Type != DeviceType.ESME)
        {
            yield return (nameof(ExportMpan), $"only an ESME serves a secondary import or export MPAN, not {Type.WithArticle()}");
        }
        if (Mprn is not null && Type != DeviceType.GSME)
        {
            yield return (nameof(Mprn), $"only a GSME serves an MPRN, not {Type.WithArticle()}");
        }
        if (RadioCell is not null && Type != DeviceType.CHF)
        {
            yield return (nameof(RadioCell), $"only a comms hub (CHF) has a radio cell, not {Type.WithArticle()}");
        }
        if (SecondaryImportMpan is { } secondary && secondary == Mpan)
        {
            yield return (nameof(SecondaryImportMpan), $"{secondary} is already the meter's import MPAN");
        }
        if (ExportMpan is { } export && (export == Mpan || export == SecondaryImportMpan))
        {
            yield return (nameof(ExportMpan), $"{export} is already the meter's {(export == Mpan ? "import" : "secondary import")} MPAN");
        }
        if (CommsHub is { } hub && (hub == Id) != (Type == DeviceType.CHF))
        {
            yield return (nameof(CommsHub), Type == DeviceType.CHF ? $"a comms hub is its own, not joined to {hub}" : $"{Type.WithArticle()} cannot be its own comms hub");
        }
    }

    /// <summary>
    /// The meter points the device serves, those it has, each with the property that holds it: an ESME's import,
    /// secondary import and export MPANs, a GSME's MPRN.
    /// </summary>
    public IEnumerable<(string Property, MeterPoint MeterPoint)> ServedMeterPoints()
    {
        foreach (var (property, mpan) in new[] { (nameof(Mpan), Mpan), (nameof(SecondaryImportMpan), SecondaryImportMpan), (nameof(ExportMpan), ExportMpan) })
        {
            if (mpan is { } served)
            {
                yield return (property, served);
            }
        }
        if (Mprn is { } mprn)
        {
            yield return (nameof(Mprn), mprn);
        }
    }

    /// <summary>The device without <paramref name="meterPoint"/> in whichever of its properties holds it (<see cref="ServedMeterPoints"/>).</summary>
    public Device Without(MeterPoint meterPoint) => this with
    {
        Mpan = Mpan == meterPoint.Mpan ? null : Mpan,
        SecondaryImportMpan = SecondaryImportMpan == meterPoint.Mpan ? null : SecondaryImportMpan,
        ExportMpan = ExportMpan == meterPoint.Mpan ? null : ExportMpan,
        Mprn = Mprn == meterPoint.Mprn ? null : Mprn,
    };

    /// <summary>Whether it is still at a meter point: neither decommissioned nor withdrawn (a meter exchanged keeps its MPAN or MPRN in the inventory, out of service).</summary>
    public bool IsInService => Status is not (SmiStatus.Decommissioned or SmiStatus.Withdrawn);

    private readonly SmiStatus status;

    /// <summary>The device's SMI status; <c>device with { Status = … }</c> is the device in another status.</summary>
    public SmiStatus Status
    {
        get => status;
        init => status = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "not an SMI status");
    }

    /// <summary>The DUIS manufacturer identifier (<c>DeviceManufacturer</c>, e.g. <c>AB01</c>), when known.</summary>
    public string? Manufacturer { get; init; }

    /// <summary>The manufacturer's model identifier (<c>DeviceModel</c>), when known; translation adapters are configured per model.</summary>
    public string? Model { get; init; }

    /// <summary>The firmware version the device runs (<c>FirmwareVersion</c>, hex as DUIS writes it), when known.</summary>
    public string? FirmwareVersion { get; init; }

    /// <summary>The SMETS or CHTS version the device meets (<c>SMETSCHTSVersion</c>, e.g. <c>SMETS V1.58</c>), when known.</summary>
    public string? SmetsChtsVersion { get; init; }

    /// <summary>The premises the device is installed at, when known.</summary>
    public Uprn? Uprn { get; init; }

    /// <summary>A comms hub's SM WAN radio cell, when known.</summary>
    public string? RadioCell { get; init; }

    /// <summary>The communications hub the device is joined to (a hub is its own); its commands queue in that hub's grain.</summary>
    public Eui64? CommsHub { get; init; }

    /// <summary>The SM WAN region of the device's comms hub, by which its commands are throttled.</summary>
    public Wan.WanRegion? Region { get; init; }

    /// <summary>The electricity metering point an ESME serves (its MPAN core), when known.</summary>
    public Mpan? Mpan { get; init; }

    /// <summary>An ESME's secondary import metering point (a second import register settled apart, DUIS <c>SecondaryImportMPAN</c>), when it has one.</summary>
    public Mpan? SecondaryImportMpan { get; init; }

    /// <summary>An ESME's export metering point (generation exported to the grid, DUIS <c>ExportMPAN</c>), when it has one.</summary>
    public Mpan? ExportMpan { get; init; }

    /// <summary>The gas metering point a GSME serves, when known.</summary>
    public Mprn? Mprn { get; init; }
}

/// <summary>The inventory already holds a device with one or more of the IDs being added.</summary>
public sealed class DuplicateDeviceException : Exception
{
    public DuplicateDeviceException(IReadOnlyList<Eui64> ids)
        : base(Describe(ids))
    {
        Ids = ids;
    }

    /// <summary>The first (often only) ID the inventory already held.</summary>
    public Eui64 Id => Ids[0];

    /// <summary>Every ID the inventory already held, in the order they were offered.</summary>
    public IReadOnlyList<Eui64> Ids { get; }

    private static string Describe(IReadOnlyList<Eui64> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            throw new ArgumentException("a duplicate names at least one device", nameof(ids));
        }
        const int shown = 5;
        return ids.Count == 1
            ? $"device {ids[0]} is already in the inventory"
            : $"{ids.Count} devices are already in the inventory: {string.Join(", ", ids.Take(shown))}{(ids.Count > shown ? ", …" : "")}";
    }
}

/// <summary>
/// A meter being added in service at a meter point that another meter in service serves: a meter point has one meter
/// in service (<see cref="InventoryStoreExtensions.MetersInServiceAsync"/>). Nothing of the add was stored.
/// </summary>
public sealed class MeterPointServedException(Eui64 device, MeterPoint meterPoint, Device servedBy)
    : Exception($"{meterPoint} (of {device}) is served already by {servedBy.Type} {servedBy.Id} ({servedBy.Status}): a meter point has one meter in service")
{
    /// <summary>The meter that was being added.</summary>
    public Eui64 Device { get; } = device;

    /// <summary>The MPAN or MPRN it was being added at.</summary>
    public MeterPoint MeterPoint { get; } = meterPoint;

    /// <summary>The meter in service at the meter point (stored, or added before it in the same call).</summary>
    public Device ServedBy { get; } = servedBy;
}
