using System.Collections.Concurrent;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;

namespace OpenDcc.Simulator.Wan;

/// <summary>
/// A stand-in for the external registration systems (MPRS, the gas registration service): which supplier and
/// network operator each simulated device's meter point has. Devices registered one by one take precedence over
/// the fleet-wide registration.
/// </summary>
public sealed class SimulatedRegistrationData : IRegistrationDataSource
{
    private readonly ConcurrentDictionary<Eui64, MeterPointRegistration> byDevice = new();

    /// <summary>The registration every device has unless registered on its own; null: none.</summary>
    public MeterPointRegistration? FleetRegistration { get; set; }

    /// <summary>The devices registered one by one, with their registrations.</summary>
    public IEnumerable<KeyValuePair<Eui64, MeterPointRegistration>> Registered => byDevice;

    public void Register(Eui64 device, MeterPointRegistration registration) => byDevice[device] = registration ?? throw new ArgumentNullException(nameof(registration));

    public Task<MeterPointRegistration?> FindByDeviceAsync(Eui64 device, CancellationToken cancellationToken = default) =>
        Task.FromResult(byDevice.TryGetValue(device, out var registration) ? registration : FleetRegistration);

    /// <summary>
    /// The supplier trust anchors the devices hold, as a GBCS device holds its supplier's certificate from installation
    /// (duis-and-dcc.md §5.1): for each supplier in the registration data (fleet-wide, with no device, and per
    /// device), its newest Supplier (OU=02) Digital Signing certificate valid at <paramref name="now"/> from the party
    /// store, standing in for the SMKI repository. A supplier with no such certificate has none, so its devices
    /// refuse critical commands.
    /// </summary>
    public async Task<IReadOnlyList<(Eui64? Device, TrustAnchor Anchor)>> SupplierTrustAnchorsAsync(IPartyStore parties, Instant now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parties);
        var anchors = new List<(Eui64?, TrustAnchor)>();
        if (FleetRegistration is { } fleet && await SupplierAnchorAsync(fleet.Supplier) is { } fleetAnchor)
        {
            anchors.Add((null, fleetAnchor));
        }
        foreach (var (device, registration) in byDevice)
        {
            if (await SupplierAnchorAsync(registration.Supplier) is { } anchor)
            {
                anchors.Add((device, anchor));
            }
        }
        return anchors;

        async Task<TrustAnchor?> SupplierAnchorAsync(Eui64 supplier) =>
            (await parties.ListCertificatesAsync(supplier, cancellationToken))
                .Where(c => c.Role == RemotePartyRole.Supplier && c.IsValidAt(now) && CommandSignature.IsDigitalSigning(c))
                .MaxBy(c => c.NotBefore) is { } certificate ? TrustAnchor.FromCertificate(certificate) : null;
    }
}
