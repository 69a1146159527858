using System.Text.Json;
using System.Text.Json.Serialization;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Wan;

/// <summary>
/// How a hub reaches an SM WAN in another process on the same machine (<c>opendcc simulate</c>): HTTP/2 over
/// cleartext TCP on loopback, with prior knowledge. HTTP/2 carries many commands in flight on one connection, each
/// its own stream that a timeout cancels alone (RST_STREAM), and a long-lived response carries what devices send
/// unasked as Server-Sent Events. No TLS and no authentication: loopback only.
/// </summary>
/// <remarks>
/// The hub first gives the WAN its Access Control Broker's identity and public key-agreement key (<see cref="AcbPath"/>)
/// and what else it has told it (the supplier trust anchors, <see cref="SupplierTrustAnchorsPath"/>), then learns the
/// devices, with their public key-agreement keys (<see cref="FleetPath"/>, <see cref="SitesPath"/>), then listens for
/// alerts (<see cref="AlertsPath"/>) and sends commands (<see cref="ExchangePath"/>). A simulator also cuts a site's
/// power when asked (<see cref="OutagePath"/>).
/// </remarks>
public static class LoopbackWanProtocol
{
    /// <summary><c>PUT</c> an <see cref="AcbKey"/>: 204.</summary>
    public const string AcbPath = "/acb";

    /// <summary><c>GET</c>: a <see cref="FleetSummary"/>.</summary>
    public const string FleetPath = "/fleet";

    /// <summary><c>GET ?from=N&amp;count=M</c>: the <see cref="ListedDevice"/>s of sites N … N+M−1.</summary>
    public const string SitesPath = "/fleet/sites";

    /// <summary>
    /// <c>GET</c>: <c>text/event-stream</c>, a <see cref="ReadyEvent"/> first, then an <see cref="AlertEvent"/> per device
    /// alert (data: <see cref="DeviceReport"/>) and a <see cref="PowerLostEvent"/> per comms hub that lost power (data:
    /// <see cref="PowerLoss"/>).
    /// </summary>
    public const string AlertsPath = "/alerts";

    public const string ReadyEvent = "ready";

    public const string AlertEvent = "alert";

    /// <summary>The WAN provider's report that a comms hub lost mains power (no device frame: the CSP's own network carries it).</summary>
    public const string PowerLostEvent = "power-lost";

    /// <summary>Sites listed per <see cref="SitesPath"/> request.</summary>
    public const int SitesPerPage = 1_000;

    /// <summary>
    /// The most the hub reads of a body from the WAN (a device's answer, a page of the fleet): far above either (a
    /// year's half-hourly profile read is under 1 MiB), so that a WAN gone wrong cannot have the hub buffer gigabytes.
    /// </summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>
    /// <c>POST</c> the command's bytes (<c>application/octet-stream</c>): 200 with the device's answer; 503 with a
    /// problem document naming why (no such device, offline, no power, no ACB key yet): the device is unreachable;
    /// 504 with one naming why the device dropped the command (its MAC, a replayed counter): it will not answer. A lost
    /// command is never answered.
    /// </summary>
    public static string ExchangePath(Eui64 device) => $"/devices/{device}/exchange";

    /// <summary>
    /// <c>POST</c> a list of <see cref="SupplierTrustAnchor"/>s (all or none): the devices take them as their supplier
    /// trust anchors, a device's own replacing the one it held, one naming no device going to every device with none
    /// of its own: 204. Standing in for the commissioning and Update Security Credentials that place a supplier's
    /// certificate on a real device; the hub posts them again whenever it connects again.
    /// </summary>
    public const string SupplierTrustAnchorsPath = "/trust-anchors/supplier";

    /// <summary>
    /// <c>POST</c> a <see cref="PowerCut"/> (<c>application/json</c>): the site's power goes now; its comms hub reports
    /// the loss of power at once (<see cref="PowerLostEvent"/>) and its electricity meter the restoration when the power
    /// returns; meanwhile its devices cannot be reached. A cut at a site already without power puts the return off to
    /// the later end. 202. 400 for a body that does not read or seconds not 1 to a day; 404 for a site the fleet does not
    /// have; 409 while no hub listens for alerts (it would not hear the loss of power) or before a hub has given the
    /// devices its ACB key (they could not protect their alerts); 415 for a body not said to be JSON.
    /// </summary>
    public static string OutagePath(int site) => $"/fleet/sites/{site}/outage";

    /// <summary>Web defaults, enums by name; a number is a JSON number (<c>"600"</c> is refused, not read as 600).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() }, NumberHandling = JsonNumberHandling.Strict };
}

/// <summary>The ACB's identity and public key-agreement key (SubjectPublicKeyInfo, base64).</summary>
public sealed record AcbKey(string Acb, string KeyAgreementKey);

/// <summary>What the WAN reaches: the fleet's seed and sites, and devices installed under IDs of their own.</summary>
public sealed record FleetSummary(ulong Seed, int Sites, int Devices, IReadOnlyList<ListedDevice> Installed);

/// <summary>A device on the WAN as the inventory takes it, with its public key-agreement key (SubjectPublicKeyInfo, base64) when its adapter needs one.</summary>
public sealed record ListedDevice(string Id, DeviceType Type, SmiStatus Status, string? Model, string? CommsHub, WanRegion? Region, string? Mpan, string? Mprn, string? KeyAgreementKey)
{
    /// <summary>A comms hub's radio cell.</summary>
    public string? RadioCell { get; init; }

    public static ListedDevice From(Device device, byte[]? keyAgreementKey)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new(device.Id.ToString(), device.Type, device.Status, device.Model, device.CommsHub?.ToString(), device.Region, device.Mpan?.ToString(), device.Mprn?.ToString(),
            keyAgreementKey is null ? null : Convert.ToBase64String(keyAgreementKey)) { RadioCell = device.RadioCell };
    }

    /// <exception cref="FormatException">no ID, or an ID, MPAN or MPRN that does not parse, or a type or SMI status that is none.</exception>
    public Device ToDevice() => new(
        Eui64.Parse(Id ?? throw new FormatException("no ID")),
        Enum.IsDefined(Type) ? Type : throw new FormatException($"type {Type} is not a device type"),
        Enum.IsDefined(Status) ? Status : throw new FormatException($"status {Status} is not an SMI status"))
    {
        Model = Model,
        CommsHub = CommsHub is null ? null : Eui64.Parse(CommsHub),
        Region = Region,
        RadioCell = RadioCell,
        Mpan = Mpan is null ? null : Identifiers.Mpan.Parse(Mpan),
        Mprn = Mprn is null ? null : Identifiers.Mprn.Parse(Mprn),
    };
}

/// <summary>A supplier's Digital Signing key (SubjectPublicKeyInfo, base64) for a device to hold as its supplier trust anchor; no device: every device with none of its own.</summary>
public sealed record SupplierTrustAnchor(string? Device, string Supplier, string SigningKey);

/// <summary>How long a site's power is cut for, in seconds.</summary>
public sealed record PowerCut(int Seconds);

/// <summary>What a device sent unasked (base64), as the bytes came.</summary>
public sealed record DeviceReport(string Device, string Message);

/// <summary>A comms hub lost mains power at <paramref name="Since"/> (ISO 8601 UTC, as NodaTime's extended ISO pattern writes an instant).</summary>
public sealed record PowerLoss(string CommsHub, string Since)
{
    public static PowerLoss Of(Eui64 commsHub, NodaTime.Instant since) =>
        new(commsHub.ToString(), NodaTime.Text.InstantPattern.ExtendedIso.Format(since));

    /// <exception cref="FormatException">an ID or a time that does not parse.</exception>
    public (Eui64 CommsHub, NodaTime.Instant Since) Read() =>
        (Eui64.Parse(CommsHub), NodaTime.Text.InstantPattern.ExtendedIso.Parse(Since).GetValueOrThrow());
}
