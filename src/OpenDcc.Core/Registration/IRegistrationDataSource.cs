using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Registration;

/// <summary>
/// Who is registered for a device's meter point, as registration systems say (Option 1: taken from the external
/// registration systems — MPRS for electricity, the gas registration service for gas; Option 2: OpenDcc's own).
/// </summary>
public interface IRegistrationDataSource
{
    /// <returns>The meter point the device serves and its registered parties, or null when the device serves none known.</returns>
    Task<MeterPointRegistration?> FindByDeviceAsync(Eui64 device, CancellationToken cancellationToken = default);
}

/// <summary>A meter point's registration, with the DCC users who act for its parties.</summary>
/// <param name="Supplier">The DCC user of the registered supplier.</param>
/// <param name="NetworkOperator">The DCC user of the distributor (electricity) or transporter (gas) of the area.</param>
public sealed record MeterPointRegistration(Mpan? Mpan, Mprn? Mprn, Eui64 Supplier, Eui64? NetworkOperator);
