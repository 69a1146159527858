using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Wan;

/// <summary>The lanes of a device's command queue, most urgent first.</summary>
public enum CommandPriority
{
    /// <summary>Critical commands (supply, firmware activation…): a user signed them and waits.</summary>
    Critical = 0,

    /// <summary>Prepayment and top-ups: a consumer may be off supply until it arrives.</summary>
    Prepayment = 1,

    Normal = 2,

    /// <summary>Bulk reads (profiles, daily read logs): last, they can wait.</summary>
    Bulk = 3,
}

public static class CommandPriorities
{
    public static CommandPriority Of(ServiceReferenceVariant variant, DeviceOperation operation)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return operation switch
        {
            _ when variant.IsCritical => CommandPriority.Critical,
            DeviceOperation.TopUp or DeviceOperation.ActivateEmergencyCredit or DeviceOperation.ReadMeterBalance or DeviceOperation.ChangePaymentMode => CommandPriority.Prepayment,
            DeviceOperation.ReadProfile or DeviceOperation.ReadDailyReadLog => CommandPriority.Bulk,
            _ => CommandPriority.Normal,
        };
    }
}
