using System.Collections.Concurrent;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Registration;

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
}
