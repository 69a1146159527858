using NodaTime;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Devices;

namespace OpenDcc.Simulator.Tests.Devices;

/// <summary>Shorthands for sending operations to simulated devices and unpacking the expected outcome.</summary>
internal static class Meters
{
    public static Instant London(int year, int month, int day, int hour = 0, int minute = 0) =>
        new LocalDateTime(year, month, day, hour, minute).InZoneLeniently(SettlementCalendar.Zone).ToInstant();

    public static long Register(this ISimulatedDevice device, Instant now) =>
        Assert.IsType<DeviceOutcome.Registers>(device.Execute(new DeviceOperation.ReadImportRegisters(), now)).Import;

    public static DeviceOutcome.Profile Profile(this ISimulatedDevice device, Instant from, Instant to, Instant now) =>
        Assert.IsType<DeviceOutcome.Profile>(device.Execute(new DeviceOperation.ReadProfile(from, to), now));

    public static long ProfileSum(this ISimulatedDevice device, Instant from, Instant to, Instant now) =>
        device.Profile(from, to, now).Values.Sum(v => v.Value);

    public static DeviceOutcome.Balance Balance(this ISimulatedDevice device, Instant now) =>
        Assert.IsType<DeviceOutcome.Balance>(device.Execute(new DeviceOperation.ReadMeterBalance(), now));

    public static void Succeeds(this ISimulatedDevice device, DeviceOperation operation, Instant now) =>
        Assert.IsType<DeviceOutcome.Done>(device.Execute(operation, now));

    public static RefusalReason Refusal(this ISimulatedDevice device, DeviceOperation operation, Instant now) =>
        Assert.IsType<DeviceOutcome.Refused>(device.Execute(operation, now)).Reason;
}
