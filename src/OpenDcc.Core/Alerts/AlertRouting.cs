using OpenDcc.Core.Registration;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Alerts;

/// <summary>
/// Who receives a device alert: the registered supplier always; for supply and network events (power outage and
/// restoration) also the network operator of the meter point's area — the seed's "transfer of alarms to network
/// operators".
/// </summary>
public static class AlertRouting
{
    public static IReadOnlyList<Identifiers.Eui64> Recipients(DeviceAlert alert, MeterPointRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(registration);
        var toNetworkOperator = alert.Kind is DeviceAlertKind.PowerOutage or DeviceAlertKind.PowerRestored;
        return toNetworkOperator && registration.NetworkOperator is { } operatorId && operatorId != registration.Supplier
            ? [registration.Supplier, operatorId]
            : [registration.Supplier];
    }
}
