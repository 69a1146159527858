namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The 16-bit message code in the grouping header, one per use case. Real GBCS numbers its use cases (for example
/// 0x0059 for ECS52, duis-and-dcc.md §1.7); these codes are OpenDcc's own, grouped by direction so a code alone says
/// which way a frame flows:
/// <list type="table">
/// <listheader><term>Code</term><description>Use case</description></listheader>
/// <item><term>0x0101</term><description>Command: read import registers</description></item>
/// <item><term>0x0102</term><description>Command: read profile (from, to)</description></item>
/// <item><term>0x0103</term><description>Command: read network data</description></item>
/// <item><term>0x0104</term><description>Command: read firmware version</description></item>
/// <item><term>0x0105</term><description>Command: update firmware (version, image hash)</description></item>
/// <item><term>0x0106</term><description>Command: activate firmware (version)</description></item>
/// <item><term>0x0107</term><description>Command: set supply (target state)</description></item>
/// <item><term>0x0108</term><description>Command: read supply status</description></item>
/// <item><term>0x0109</term><description>Command: top up (UTRN)</description></item>
/// <item><term>0x010A</term><description>Command: activate emergency credit</description></item>
/// <item><term>0x010B</term><description>Command: read meter balance</description></item>
/// <item><term>0x010C</term><description>Command: change payment mode</description></item>
/// <item><term>0x010D</term><description>Command: join a device (its EUI-64)</description></item>
/// <item><term>0x010E</term><description>Command: unjoin a device (its EUI-64)</description></item>
/// <item><term>0x010F</term><description>Command: commission the device, synchronising its clock (the DCC's time, the tolerance)</description></item>
/// <item><term>0x0110</term><description>Command to a comms hub: add a device to its device log (its EUI-64, install code, join time period)</description></item>
/// <item><term>0x0111</term><description>Command to a comms hub: remove a device from its device log (its EUI-64)</description></item>
/// <item><term>0x0112</term><description>Command: read the daily read log (from, to)</description></item>
/// <item><term>0x0113</term><description>Command: read the configured MPAN or MPRN</description></item>
/// <item><term>0x0114</term><description>Command: read the payment mode</description></item>
/// <item><term>0x0115</term><description>Command: read the device log</description></item>
/// <item><term>0x0116</term><description>Command: read active import power</description></item>
/// <item><term>0x0201</term><description>Response: done</description></item>
/// <item><term>0x0202</term><description>Response: registers</description></item>
/// <item><term>0x0203</term><description>Response: profile</description></item>
/// <item><term>0x0204</term><description>Response: network data</description></item>
/// <item><term>0x0205</term><description>Response: firmware version</description></item>
/// <item><term>0x0206</term><description>Response: supply status</description></item>
/// <item><term>0x0207</term><description>Response: balance</description></item>
/// <item><term>0x0208</term><description>Response: refused (reason, detail)</description></item>
/// <item><term>0x0209</term><description>Response: daily reads (unit, count, then at and value each)</description></item>
/// <item><term>0x020A</term><description>Response: meter point (MPAN or MPRN)</description></item>
/// <item><term>0x020B</term><description>Response: payment mode</description></item>
/// <item><term>0x020C</term><description>Response: device log (count, then each device's EUI-64)</description></item>
/// <item><term>0x020D</term><description>Response: active power (watts, at)</description></item>
/// <item><term>0x0301</term><description>Alert: power outage</description></item>
/// <item><term>0x0302</term><description>Alert: power restored</description></item>
/// <item><term>0x0303</term><description>Alert: low credit</description></item>
/// <item><term>0x0304</term><description>Alert: supply disabled, no credit</description></item>
/// <item><term>0x0305</term><description>Alert: firmware verification failed</description></item>
/// </list>
/// </summary>
public static class GbcsMessageCodes
{
    public const ushort ReadImportRegisters = 0x0101;
    public const ushort ReadProfile = 0x0102;
    public const ushort ReadNetworkData = 0x0103;
    public const ushort ReadFirmwareVersion = 0x0104;
    public const ushort UpdateFirmware = 0x0105;
    public const ushort ActivateFirmware = 0x0106;
    public const ushort SetSupply = 0x0107;
    public const ushort ReadSupplyStatus = 0x0108;
    public const ushort TopUp = 0x0109;
    public const ushort ActivateEmergencyCredit = 0x010A;
    public const ushort ReadMeterBalance = 0x010B;
    public const ushort ChangePaymentMode = 0x010C;
    public const ushort JoinDevice = 0x010D;
    public const ushort UnjoinDevice = 0x010E;
    public const ushort CommissionDevice = 0x010F;
    public const ushort AddToDeviceLog = 0x0110;
    public const ushort RemoveFromDeviceLog = 0x0111;
    public const ushort ReadDailyReadLog = 0x0112;
    public const ushort ReadMeterPoint = 0x0113;
    public const ushort ReadPaymentMode = 0x0114;
    public const ushort ReadDeviceLog = 0x0115;
    public const ushort ReadActivePower = 0x0116;

    public const ushort Done = 0x0201;
    public const ushort Registers = 0x0202;
    public const ushort Profile = 0x0203;
    public const ushort NetworkData = 0x0204;
    public const ushort FirmwareVersion = 0x0205;
    public const ushort SupplyStatus = 0x0206;
    public const ushort Balance = 0x0207;
    public const ushort Refused = 0x0208;
    public const ushort DailyReads = 0x0209;
    public const ushort MeterPoint = 0x020A;
    public const ushort PaymentModeSetting = 0x020B;
    public const ushort DeviceLog = 0x020C;
    public const ushort ActivePower = 0x020D;

    // 0x0301 was a meter's power outage alert: the comms hub's report to the WAN provider replaces it (a DCC Alert).
    public const ushort PowerRestored = 0x0302;
    public const ushort LowCredit = 0x0303;
    public const ushort SupplyDisabledNoCredit = 0x0304;
    public const ushort FirmwareVerificationFailed = 0x0305;

    public static ushort For(DeviceOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return operation switch
        {
            DeviceOperation.ReadImportRegisters => ReadImportRegisters,
            DeviceOperation.ReadProfile => ReadProfile,
            DeviceOperation.ReadNetworkData => ReadNetworkData,
            DeviceOperation.ReadFirmwareVersion => ReadFirmwareVersion,
            DeviceOperation.UpdateFirmware => UpdateFirmware,
            DeviceOperation.ActivateFirmware => ActivateFirmware,
            DeviceOperation.SetSupply => SetSupply,
            DeviceOperation.ReadSupplyStatus => ReadSupplyStatus,
            DeviceOperation.TopUp => TopUp,
            DeviceOperation.ActivateEmergencyCredit => ActivateEmergencyCredit,
            DeviceOperation.ReadMeterBalance => ReadMeterBalance,
            DeviceOperation.ChangePaymentMode => ChangePaymentMode,
            DeviceOperation.JoinDevice => JoinDevice,
            DeviceOperation.UnjoinDevice => UnjoinDevice,
            DeviceOperation.CommissionDevice => CommissionDevice,
            DeviceOperation.AddToDeviceLog => AddToDeviceLog,
            DeviceOperation.RemoveFromDeviceLog => RemoveFromDeviceLog,
            DeviceOperation.ReadDailyReadLog => ReadDailyReadLog,
            DeviceOperation.ReadMeterPoint => ReadMeterPoint,
            DeviceOperation.ReadPaymentMode => ReadPaymentMode,
            DeviceOperation.ReadDeviceLog => ReadDeviceLog,
            DeviceOperation.ReadActivePower => ReadActivePower,
            _ => throw new ArgumentException($"No GBCS message code for {operation.GetType().Name}", nameof(operation)),
        };
    }

    public static ushort For(DeviceOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome switch
        {
            DeviceOutcome.Done => Done,
            DeviceOutcome.Registers => Registers,
            DeviceOutcome.Profile => Profile,
            DeviceOutcome.NetworkData => NetworkData,
            DeviceOutcome.FirmwareVersion => FirmwareVersion,
            DeviceOutcome.SupplyStatus => SupplyStatus,
            DeviceOutcome.Balance => Balance,
            DeviceOutcome.Refused => Refused,
            DeviceOutcome.DailyReads => DailyReads,
            DeviceOutcome.MeterPoint => MeterPoint,
            DeviceOutcome.PaymentModeSetting => PaymentModeSetting,
            DeviceOutcome.DeviceLog => DeviceLog,
            DeviceOutcome.ActivePower => ActivePower,
            _ => throw new ArgumentException($"No GBCS message code for {outcome.GetType().Name}", nameof(outcome)),
        };
    }

    public static ushort For(DeviceAlertKind kind) => kind switch
    {
        DeviceAlertKind.PowerRestored => PowerRestored,
        DeviceAlertKind.LowCredit => LowCredit,
        DeviceAlertKind.SupplyDisabledNoCredit => SupplyDisabledNoCredit,
        DeviceAlertKind.FirmwareVerificationFailed => FirmwareVerificationFailed,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No GBCS message code for this alert kind"),
    };

    internal static bool TryGetAlertKind(ushort code, out DeviceAlertKind kind)
    {
        kind = code switch
        {
            PowerRestored => DeviceAlertKind.PowerRestored,
            LowCredit => DeviceAlertKind.LowCredit,
            SupplyDisabledNoCredit => DeviceAlertKind.SupplyDisabledNoCredit,
            FirmwareVerificationFailed => DeviceAlertKind.FirmwareVerificationFailed,
            _ => (DeviceAlertKind)(-1),
        };
        return Enum.IsDefined(kind);
    }
}
