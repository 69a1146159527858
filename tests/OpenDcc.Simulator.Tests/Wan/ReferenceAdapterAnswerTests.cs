using System.Security.Cryptography;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Tests.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Simulator.Tests.Wan;

/// <summary>
/// The reference adapters accept a device's answer once, and only to the command in flight to it; what they keep for
/// a device between commands goes when it is released, and it works again after.
/// </summary>
public sealed class ReferenceAdapterAnswerTests : IDisposable
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 29, 9, 0));
    private readonly ECDiffieHellman acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly SimulatedWan wan;
    private readonly GbcsReferenceAdapter gbcs;
    private readonly EarlySmartReferenceAdapter earlySmart = new(Acb, RandomNumberGenerator.GetBytes(32));

    public ReferenceAdapterAnswerTests()
    {
        // Site 9 of every ten speaks early smart; site 0 GBCS.
        wan = new SimulatedWan(new SimulatedFleet(5, 10), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant, SimulatedWorld.FormatOf);
        gbcs = new GbcsReferenceAdapter(Acb, acbKey, wan);
    }

    public static TheoryData<bool> Formats => [false, true];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task An_answer_to_the_command_in_flight_is_accepted_once_and_its_replay_refused(bool early)
    {
        var (adapter, meter) = Pick(early);
        var answer = await wan.ExchangeAsync(meter, adapter.ToDevice(new DeviceOperation.ReadImportRegisters(), meter, 100), CancellationToken.None);

        Assert.IsType<DeviceMessage.Answer>(adapter.FromDevice(answer, meter));
        var replayed = Assert.IsType<DeviceMessage.Unreadable>(adapter.FromDevice(answer, meter));
        Assert.Contains("not the answer to the command in flight", replayed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gas_register_read_sent_to_a_sites_gas_proxy_function_is_answered_over_the_wan_with_the_gas_meters_register()
    {
        var proxy = wan.Fleet[0].GasProxyId;

        var answer = await wan.ExchangeAsync(proxy, gbcs.ToDevice(new DeviceOperation.ReadImportRegisters(), proxy, 100), CancellationToken.None);

        var registers = Assert.IsType<DeviceOutcome.Registers>(Assert.IsType<DeviceMessage.Answer>(gbcs.FromDevice(answer, proxy)).Outcome);
        Assert.Equal(wan.Fleet[0].GasMeter.Register(clock.GetCurrentInstant()), registers.Import);
        Assert.Equal(RegisterUnit.CubicDecimetres, registers.Unit);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task An_answer_to_an_earlier_command_is_refused_as_the_answer_to_a_later_one(bool early)
    {
        var (adapter, meter) = Pick(early);
        var old = await wan.ExchangeAsync(meter, adapter.ToDevice(new DeviceOperation.ReadImportRegisters(), meter, 100), CancellationToken.None);
        Assert.IsType<DeviceMessage.Answer>(adapter.FromDevice(old, meter));
        var current = await wan.ExchangeAsync(meter, adapter.ToDevice(new DeviceOperation.ReadSupplyStatus(), meter, 101), CancellationToken.None);

        Assert.IsType<DeviceMessage.Unreadable>(adapter.FromDevice(old, meter));
        Assert.IsType<DeviceOutcome.SupplyStatus>(Assert.IsType<DeviceMessage.Answer>(adapter.FromDevice(current, meter)).Outcome);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_released_device_awaits_no_answer_and_is_served_again_on_its_next_command(bool early)
    {
        var (adapter, meter) = Pick(early);
        var answer = await wan.ExchangeAsync(meter, adapter.ToDevice(new DeviceOperation.ReadImportRegisters(), meter, 100), CancellationToken.None);

        adapter.Release(meter);

        Assert.IsType<DeviceMessage.Unreadable>(adapter.FromDevice(answer, meter));
        var next = await wan.ExchangeAsync(meter, adapter.ToDevice(new DeviceOperation.ReadImportRegisters(), meter, 101), CancellationToken.None);
        Assert.IsType<DeviceOutcome.Registers>(Assert.IsType<DeviceMessage.Answer>(adapter.FromDevice(next, meter)).Outcome);
    }

    [Fact]
    public async Task What_a_device_the_wan_has_no_key_for_sends_is_unreadable_never_an_exception()
    {
        var meter = wan.Fleet[0].ElectricityMeter.Id;
        var frame = await wan.ExchangeAsync(meter, gbcs.ToDevice(new DeviceOperation.ReadSupplyStatus(), meter, 1), CancellationToken.None);
        var unknown = Eui64.Parse("00-DB-12-34-56-78-9F-FF");

        Assert.Contains("no key-agreement key", Assert.IsType<DeviceMessage.Unreadable>(gbcs.FromDevice(frame, unknown)).Reason, StringComparison.Ordinal);
        Assert.Contains("no key-agreement key", Assert.IsType<DeviceMessage.Unreadable>(gbcs.FromLocalDelivery(frame, unknown, frame)).Reason, StringComparison.Ordinal);
        Assert.Null(gbcs.ReadAnswerPayload(frame, unknown));
    }

    public void Dispose()
    {
        gbcs.Dispose();
        earlySmart.Dispose();
        wan.Dispose();
        acbKey.Dispose();
    }

    private (ITranslationAdapter Adapter, Eui64 Meter) Pick(bool early) =>
        early ? (earlySmart, wan.Fleet[9].ElectricityMeter.Id) : (gbcs, wan.Fleet[0].ElectricityMeter.Id);
}
