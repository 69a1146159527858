using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// Who receives an alert: the registered supplier always; for network events (a comms hub's power outage, a meter's
/// supply restored) the network operator of the meter point's area first — the seed's "transfer of alarms to network
/// operators" — then the supplier.
/// </summary>
public static class AlertRouting
{
    /// <summary>The recipients of a device alert, in the order it is sent to them.</summary>
    public static IReadOnlyList<Eui64> Recipients(DeviceAlert alert, MeterPointRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(registration);
        return alert.Kind is DeviceAlertKind.PowerRestored ? NetworkEventRecipients(registration) : [registration.Supplier];
    }

    /// <summary>The recipients of a DCC Alert for a comms hub's power outage (AD1), in the order it is sent to them.</summary>
    public static IReadOnlyList<Eui64> PowerOutageRecipients(MeterPointRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return NetworkEventRecipients(registration);
    }

    private static IReadOnlyList<Eui64> NetworkEventRecipients(MeterPointRegistration registration) =>
        registration.NetworkOperator is { } operatorId && operatorId != registration.Supplier
            ? [operatorId, registration.Supplier]
            : [registration.Supplier];
}
