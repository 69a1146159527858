using NodaTime;

namespace OpenDcc.Core.Translation;

/// <summary>
/// What a device is asked to do, in no wire format: translation adapters turn DUIS service requests into these and
/// these into device command bytes; devices (real or simulated) answer each with a <see cref="DeviceOutcome"/>.
/// </summary>
public abstract record DeviceOperation
{
    private DeviceOperation()
    {
    }

    /// <summary>4.1.1: the cumulative import register (electricity Wh, gas dm³).</summary>
    public sealed record ReadImportRegisters : DeviceOperation;

    /// <summary>4.8.1 (electricity, half-hourly) and 4.17 (gas, daily): consumption per interval in [From, To).</summary>
    public sealed record ReadProfile(Instant From, Instant To) : DeviceOperation;

    /// <summary>4.6.1 Retrieve Import Daily Read Log: the import register as it stood at each local midnight in [From, To).</summary>
    public sealed record ReadDailyReadLog(Instant From, Instant To) : DeviceOperation;

    /// <summary>6.2.7 Read Device Configuration (MPxN): the metering point the meter is configured with.</summary>
    public sealed record ReadMeterPoint : DeviceOperation;

    /// <summary>6.2.9 Read Device Configuration (Payment Mode).</summary>
    public sealed record ReadPaymentMode : DeviceOperation;

    /// <summary>8.9 Read Device Log: the devices a comms hub's device log holds, or those a meter is joined to on its HAN.</summary>
    public sealed record ReadDeviceLog : DeviceOperation;

    /// <summary>4.16 Read Active Power Import: the electricity meter's active import power now.</summary>
    public sealed record ReadActivePower : DeviceOperation;

    /// <summary>4.10 / power-quality reads: RMS voltage and active power now.</summary>
    public sealed record ReadNetworkData : DeviceOperation;

    /// <summary>11.2.</summary>
    public sealed record ReadFirmwareVersion : DeviceOperation;

    /// <summary>11.1: an image is distributed; it waits, pending, until activated.</summary>
    public sealed record UpdateFirmware(string Version, ReadOnlyMemory<byte> ImageHash) : DeviceOperation;

    /// <summary>11.3: the pending image becomes the running one, if it is the image named.</summary>
    /// <param name="ImageHash">The image's SHA-256 in hex (DUIS FirmwareHash), as 11.1 distributed it (<see cref="UpdateFirmware.ImageHash"/>).</param>
    public sealed record ActivateFirmware(string ImageHash) : DeviceOperation;

    /// <summary>7.1 Enable, 7.2 Disable, 7.3 Arm.</summary>
    public sealed record SetSupply(SupplyState Target) : DeviceOperation;

    /// <summary>7.4.</summary>
    public sealed record ReadSupplyStatus : DeviceOperation;

    /// <summary>2.2: a 20-digit UTRN that credits the meter once; refused by a meter in credit mode.</summary>
    public sealed record TopUp(string Utrn) : DeviceOperation;

    /// <summary>2.5.</summary>
    public sealed record ActivateEmergencyCredit : DeviceOperation;

    /// <summary>4.18: credit, emergency credit in use and the payment mode.</summary>
    public sealed record ReadMeterBalance : DeviceOperation;

    /// <summary>Change between credit and prepayment mode (DUIS 1.6 Update Payment Mode).</summary>
    public sealed record ChangePaymentMode(PaymentMode Mode) : DeviceOperation;

    /// <summary>
    /// 8.7.1 / 8.7.2 Join Service (critical or not): the device pairs with another on the HAN (a PPMID or IHD with a
    /// meter); the other device must be in the device log of the comms hub the HAN belongs to.
    /// </summary>
    public sealed record JoinDevice(Identifiers.Eui64 Other) : DeviceOperation;

    /// <summary>8.8.1 / 8.8.2 Unjoin Service (critical or not): the device forgets a device it was joined to.</summary>
    public sealed record UnjoinDevice(Identifiers.Eui64 Other) : DeviceOperation;

    /// <summary>
    /// 8.1.1 Commission Device (<c>CommissionDeviceSynchroniseClock</c>): the device sets its clock to the DCC's time
    /// and takes itself as commissioned, if <paramref name="CurrentDateTime"/> is within <paramref name="Tolerance"/>
    /// of the time it receives the command at.
    /// </summary>
    public sealed record CommissionDevice(Instant CurrentDateTime, Duration Tolerance) : DeviceOperation;

    /// <summary>
    /// 8.11 Update HAN Device Log, <c>RequestType</c> Add: the comms hub puts a device on its device log (the CHF
    /// whitelist) with the install code it will join the HAN with (hex, as DUIS carries it), for
    /// <paramref name="JoinTimePeriod"/>.
    /// </summary>
    public sealed record AddToDeviceLog(Identifiers.Eui64 Device, string InstallCode, Duration JoinTimePeriod) : DeviceOperation;

    /// <summary>8.11 Update HAN Device Log, <c>RequestType</c> Remove: the comms hub takes a device off its device log.</summary>
    public sealed record RemoveFromDeviceLog(Identifiers.Eui64 Device) : DeviceOperation;
}

public enum SupplyState
{
    Enabled,
    Disabled,

    /// <summary>Off until the consumer presses the button on the meter.</summary>
    Armed,
}

public enum PaymentMode
{
    Credit,
    Prepayment,
}

/// <summary>The unit of a register or profile value: electricity in watt-hours, gas in cubic decimetres (litres).</summary>
public enum RegisterUnit
{
    WattHours,
    CubicDecimetres,
}

/// <summary>One interval of a profile: consumption from <paramref name="Start"/> for the profile's interval.</summary>
public readonly record struct ProfileValue(Instant Start, long Value);

/// <summary>A register as it stood at <paramref name="At"/>: a daily read log's entry.</summary>
public readonly record struct RegisterRead(Instant At, long Value);

/// <summary>A device's answer to a <see cref="DeviceOperation"/>.</summary>
public abstract record DeviceOutcome
{
    private DeviceOutcome()
    {
    }

    /// <summary>Done, nothing to report (supply change, firmware activation, emergency credit…).</summary>
    public sealed record Done : DeviceOutcome;

    public sealed record Registers(long Import, RegisterUnit Unit, Instant At) : DeviceOutcome;

    public sealed record Profile(Duration Interval, RegisterUnit Unit, IReadOnlyList<ProfileValue> Values) : DeviceOutcome;

    /// <summary>The import register at each local midnight asked for, oldest first (none before the meter was installed).</summary>
    public sealed record DailyReads(RegisterUnit Unit, IReadOnlyList<RegisterRead> Reads) : DeviceOutcome;

    /// <summary>The MPAN (electricity) or MPRN (gas) the meter is configured with, as DUIS writes it.</summary>
    public sealed record MeterPoint(string Mpxn) : DeviceOutcome;

    /// <summary>The payment mode the meter is in.</summary>
    public sealed record PaymentModeSetting(PaymentMode Mode) : DeviceOutcome;

    /// <summary>The devices in a device log, in ID order.</summary>
    public sealed record DeviceLog(IReadOnlyList<Identifiers.Eui64> Devices) : DeviceOutcome;

    /// <summary>Active import power in watts.</summary>
    public sealed record ActivePower(int Watts, Instant At) : DeviceOutcome;

    /// <summary>RMS voltage in decivolts, active import power in watts.</summary>
    public sealed record NetworkData(int RmsVoltageDeciVolts, int ActivePowerWatts, Instant At) : DeviceOutcome;

    public sealed record FirmwareVersion(string Running, string? Pending) : DeviceOutcome;

    public sealed record SupplyStatus(SupplyState State) : DeviceOutcome;

    /// <summary>Money in pence; emergency credit is what the consumer has drawn from it.</summary>
    public sealed record Balance(long CreditPence, long EmergencyCreditInUsePence, PaymentMode Mode) : DeviceOutcome;

    /// <summary>The device refused the operation, as the device itself would say.</summary>
    public sealed record Refused(RefusalReason Reason, string Detail) : DeviceOutcome;
}

public enum RefusalReason
{
    /// <summary>This device type or model cannot do this operation.</summary>
    NotSupported,

    /// <summary>A top-up or prepayment operation sent to a meter in credit mode.</summary>
    WrongPaymentMode,

    /// <summary>A UTRN already used on this meter, or one that is not 20 digits with a valid check.</summary>
    UtrnRejected,

    /// <summary>Firmware activation with no matching pending image.</summary>
    NoPendingFirmware,

    /// <summary>The operation is not allowed in the device's current state (for example enabling supply with no credit).</summary>
    InvalidState,

    /// <summary>
    /// A critical command whose signer is not the remote party the device trusts for it, or whose signature does not
    /// verify against that party's key (GBCS alert 0x8F30 "Source does not have authority for command", duis-and-dcc.md §1.6).
    /// </summary>
    Unauthorised,

    /// <summary>
    /// A join (8.7.1 / 8.7.2) of a device that is not in the device log of the comms hub the HAN belongs to (8.11 puts it
    /// there): the device could not be on the HAN, so nothing is joined; or an 8.11 removal of a device not in the log.
    /// </summary>
    NotInDeviceLog,
}

/// <summary>Something a device reports unasked, for example the supply restored after an outage.</summary>
public sealed record DeviceAlert(DeviceAlertKind Kind, ushort AlertCode, Instant At);

/// <remarks>
/// No power outage: a meter without power cannot report it. The comms hub reports the loss of mains to the WAN
/// provider (<see cref="Alerts.IDeviceAlertSink.PowerLostAsync"/>) and the DCC raises a DCC Alert (AD1
/// <c>PowerOutageEvent</c>), as in SMETS2.
/// </remarks>
public enum DeviceAlertKind
{
    /// <summary>The electricity meter's supply came back after an outage (its own alert, once it has power again).</summary>
    PowerRestored,

    /// <summary>Prepayment credit fell below the low-credit threshold.</summary>
    LowCredit,

    /// <summary>The supply was disabled because credit ran out.</summary>
    SupplyDisabledNoCredit,

    FirmwareVerificationFailed,
}
