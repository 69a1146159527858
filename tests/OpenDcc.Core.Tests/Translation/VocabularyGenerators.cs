using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>
/// Generators of the device vocabulary for the codec round-trip properties. Instants and profile intervals are whole
/// seconds: the early-smart format carries Unix seconds (GBCS carries 100 ns ticks), so whole seconds round-trip
/// exactly through both.
/// </summary>
internal static class VocabularyGenerators
{
    /// <summary>Any well-formed text, with the early-smart separators, its escape character and line breaks over-represented.</summary>
    public static Gen<string> Text =>
        Gen.ArrayOf(Gen.OneOf(
                Gen.Choose(0x00, 0x7E).Select(c => (char)c),
                Gen.Choose(0xA0, 0xD7FF).Select(c => (char)c),
                Gen.Elements('|', ';', '=', '\\', '\n', '\r', ',', ':')))
            .Select(cs => new string(cs));

    public static Gen<string?> OptionalText => Gen.OneOf(Gen.Constant<string?>(null), Text.Select(t => (string?)t));

    /// <summary>Whole seconds from 1906 to 2033.</summary>
    public static Gen<Instant> At => Gen.Choose(-2_000_000_000, 2_000_000_000).Select(s => Instant.FromUnixTimeSeconds(s));

    public static Gen<Eui64> Eui => ArbMap.Default.GeneratorFor<DoNotSize<ulong>>().Select(v => new Eui64(v.Item));

    public static Gen<ulong> Counter => ArbMap.Default.GeneratorFor<DoNotSize<ulong>>().Select(v => v.Item);

    public static Gen<GbcsHeader> GbcsHeaders =>
        from counter in Counter
        from originator in Eui
        from recipient in Eui
        select new GbcsHeader(counter, originator, recipient);

    public static Gen<long> Long => ArbMap.Default.GeneratorFor<DoNotSize<long>>().Select(v => v.Item);

    public static Gen<int> Int => ArbMap.Default.GeneratorFor<DoNotSize<int>>().Select(v => v.Item);

    public static Gen<byte[]> Bytes => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));

    public static Gen<T> Any<T>()
        where T : struct, Enum => Gen.Elements(Enum.GetValues<T>());

    public static Gen<DeviceOperation> Operations => Gen.OneOf(
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadImportRegisters()),
        from start in At
        from end in At
        select (DeviceOperation)new DeviceOperation.ReadProfile(start, end),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadNetworkData()),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadFirmwareVersion()),
        from version in Text
        from hash in Bytes
        select (DeviceOperation)new DeviceOperation.UpdateFirmware(version, hash),
        Text.Select(v => (DeviceOperation)new DeviceOperation.ActivateFirmware(v)),
        Any<SupplyState>().Select(s => (DeviceOperation)new DeviceOperation.SetSupply(s)),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadSupplyStatus()),
        Text.Select(u => (DeviceOperation)new DeviceOperation.TopUp(u)),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ActivateEmergencyCredit()),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadMeterBalance()),
        Any<PaymentMode>().Select(m => (DeviceOperation)new DeviceOperation.ChangePaymentMode(m)),
        Counter.Select(id => (DeviceOperation)new DeviceOperation.JoinDevice(new OpenDcc.Core.Identifiers.Eui64(id))),
        Counter.Select(id => (DeviceOperation)new DeviceOperation.UnjoinDevice(new OpenDcc.Core.Identifiers.Eui64(id))),
        from at in At
        from tolerance in Gen.Choose(0, 86_400)
        select (DeviceOperation)new DeviceOperation.CommissionDevice(at, Duration.FromSeconds(tolerance)),
        from device in Eui
        from code in Text
        from joinSeconds in Gen.Choose(1, 3600)
        select (DeviceOperation)new DeviceOperation.AddToDeviceLog(device, code, Duration.FromSeconds(joinSeconds)),
        Eui.Select(device => (DeviceOperation)new DeviceOperation.RemoveFromDeviceLog(device)),
        from start in At
        from end in At
        select (DeviceOperation)new DeviceOperation.ReadDailyReadLog(start, end),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadMeterPoint()),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadPaymentMode()),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadDeviceLog()),
        Gen.Constant<DeviceOperation>(new DeviceOperation.ReadActivePower()));

    public static Gen<ProfileValue> ProfileEntry =>
        from start in At
        from value in Long
        select new ProfileValue(start, value);

    public static Gen<DeviceOutcome> Outcomes => Gen.OneOf(
        Gen.Constant<DeviceOutcome>(new DeviceOutcome.Done()),
        from import in Long
        from unit in Any<RegisterUnit>()
        from at in At
        select (DeviceOutcome)new DeviceOutcome.Registers(import, unit, at),
        from seconds in Gen.Choose(1, 7 * 86_400)
        from unit in Any<RegisterUnit>()
        from values in Gen.ListOf(ProfileEntry)
        select (DeviceOutcome)new DeviceOutcome.Profile(Duration.FromSeconds(seconds), unit, values),
        from voltage in Int
        from power in Int
        from at in At
        select (DeviceOutcome)new DeviceOutcome.NetworkData(voltage, power, at),
        from running in Text
        from pending in OptionalText
        select (DeviceOutcome)new DeviceOutcome.FirmwareVersion(running, pending),
        Any<SupplyState>().Select(s => (DeviceOutcome)new DeviceOutcome.SupplyStatus(s)),
        from credit in Long
        from emergency in Long
        from mode in Any<PaymentMode>()
        select (DeviceOutcome)new DeviceOutcome.Balance(credit, emergency, mode),
        from reason in Any<RefusalReason>()
        from detail in Text
        select (DeviceOutcome)new DeviceOutcome.Refused(reason, detail),
        from unit in Any<RegisterUnit>()
        from reads in Gen.ListOf(from at in At from value in Long select new RegisterRead(at, value))
        select (DeviceOutcome)new DeviceOutcome.DailyReads(unit, reads),
        Text.Select(mpxn => (DeviceOutcome)new DeviceOutcome.MeterPoint(mpxn)),
        Any<PaymentMode>().Select(mode => (DeviceOutcome)new DeviceOutcome.PaymentModeSetting(mode)),
        Gen.ListOf(Eui).Select(devices => (DeviceOutcome)new DeviceOutcome.DeviceLog(devices)),
        from watts in Int
        from at in At
        select (DeviceOutcome)new DeviceOutcome.ActivePower(watts, at));

    public static Gen<DeviceAlert> DeviceAlerts =>
        from kind in Any<DeviceAlertKind>()
        from code in Gen.Choose(0, ushort.MaxValue)
        from at in At
        select new DeviceAlert(kind, (ushort)code, at);
}

/// <summary>Structural equality for the vocabulary: records compare byte strings and lists by reference, codecs cannot.</summary>
internal static class Vocabulary
{
    public static bool Same(DeviceOperation expected, DeviceOperation actual) => (expected, actual) switch
    {
        (DeviceOperation.UpdateFirmware e, DeviceOperation.UpdateFirmware a) =>
            e.Version == a.Version && e.ImageHash.Span.SequenceEqual(a.ImageHash.Span),
        _ => expected == actual,
    };

    public static bool Same(DeviceOutcome expected, DeviceOutcome actual) => (expected, actual) switch
    {
        (DeviceOutcome.Profile e, DeviceOutcome.Profile a) =>
            e.Interval == a.Interval && e.Unit == a.Unit && e.Values.SequenceEqual(a.Values),
        (DeviceOutcome.DailyReads e, DeviceOutcome.DailyReads a) => e.Unit == a.Unit && e.Reads.SequenceEqual(a.Reads),
        (DeviceOutcome.DeviceLog e, DeviceOutcome.DeviceLog a) => e.Devices.SequenceEqual(a.Devices),
        _ => expected == actual,
    };
}
