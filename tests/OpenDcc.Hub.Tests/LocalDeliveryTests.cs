using System.Text;
using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// Commands for local delivery (duis-and-dcc.md §1.4): CV 2 (a service request) and CV 6 (a signed pre-command) at
/// Non-Device, answered at once with the command in the device's format, protected by the ACB, for the user's installer
/// to take to the device over its HAN; nothing goes over the SM WAN. The tests hand the command to the simulated meter
/// as a HAN would, and the meter checks it as it checks any command.
/// </summary>
public sealed class LocalDeliveryTests : IAsyncLifetime
{
    private const string NonDevice = "/api/v1/serviceD";
    private const string SendCommand = "/api/v1/serviceS";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await StartAsync();

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private SupplyState MeterSupply =>
        Assert.IsType<DeviceOutcome.SupplyStatus>(hub.Wan.Fleet[0].ElectricityMeter.Execute(new DeviceOperation.ReadSupplyStatus(), SystemClock.Instance.GetCurrentInstant())).State;

    [Fact]
    public async Task Cv_2_returns_a_command_the_meter_executes_when_delivered_locally_and_nothing_goes_over_the_wan()
    {
        var (code, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 2, "4.1.1"));

        Assert.Equal("I0", code);
        Assert.Equal("4.1.1", response.Descendants(Sr + "ServiceReferenceVariant").Single().Value);
        var command = LocalCommandOf(response);
        // No asynchronous response: the command went to the user, not to the meter.
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(2)));

        var answer = await DeliverOverHanAsync(Meter, command);
        var decoded = hub.World.ReadAnswer(answer, Meter, Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        Assert.IsType<DeviceOutcome.Registers>(decoded.Value);
    }

    [Fact]
    public async Task A_local_command_delivered_twice_is_dropped_by_the_meter_the_second_time()
    {
        var (_, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 2, "4.1.1"));
        var command = LocalCommandOf(response);

        await DeliverOverHanAsync(Meter, command);

        await Assert.ThrowsAsync<DeviceSilentException>(() => DeliverOverHanAsync(Meter, command));
    }

    [Fact]
    public async Task A_local_command_and_the_wan_commands_after_it_each_get_a_counter_the_meter_has_not_seen()
    {
        var (_, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 2, "4.1.1"));
        var local = LocalCommandOf(response);

        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        Assert.Equal("I0", await hub.CheckSignedResponseAsync(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))));

        // The local command is older than the WAN command the meter executed since: GBCS counters only rise, so the
        // meter drops it; the installer asks for a new one.
        await Assert.ThrowsAsync<DeviceSilentException>(() => DeliverOverHanAsync(Meter, local));
        var (_, again) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 2, "4.1.1"));
        await DeliverOverHanAsync(Meter, LocalCommandOf(again));
    }

    [Fact]
    public async Task Cv_6_returns_the_signed_critical_command_with_the_acbs_protection_and_the_meter_acts_only_when_it_is_delivered()
    {
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, hub.NextCounter()), ServiceCatalogue.Duis["7.2"], signed, commandVariant: 6));

        var (code, response) = await hub.SendAsync(NonDevice, xml);

        Assert.Equal("I0", code);
        var command = LocalCommandOf(response);
        Assert.Equal(SupplyState.Enabled, MeterSupply);
        var decoded = hub.World.ReadAnswer(await DeliverOverHanAsync(Meter, command), Meter, Dsp);
        Assert.True(decoded.Succeeded, decoded.Reason);
        Assert.IsType<DeviceOutcome.Done>(decoded.Value);
        Assert.Equal(SupplyState.Disabled, MeterSupply);
    }

    [Fact]
    public async Task A_cv_6_pre_command_signed_with_another_key_is_refused_E45_with_no_command()
    {
        var preCommand = await hub.TransformAsync(Meter, "7.2");
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var forged = Core.Translation.Gbcs.GbcsCodec.SignPreCommand(preCommand, forger);
        var xml = Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(new RequestId(Supplier, Meter, hub.NextCounter()), ServiceCatalogue.Duis["7.2"], forged, commandVariant: 6));

        var (code, response) = await hub.SendAsync(NonDevice, xml);

        Assert.Equal("E45", code);
        Assert.Empty(response.Descendants(Sr + "LocalCommand"));
    }

    [Theory]
    [InlineData(SendCommand, 2, "4.1.1", "E13")] // a local-delivery variant belongs at Non-Device
    [InlineData(SendCommand, 3, "4.1.1", "E17")] // over the SM WAN and a local copy: not offered, as on DCC Boxed
    [InlineData(NonDevice, 2, "7.2", "E12")] // a critical SRV comes as a signed pre-command (CV 6), not CV 2
    [InlineData(NonDevice, 6, "4.1.1", "E12")] // and a non-critical one not as CV 6
    public async Task A_local_delivery_request_sent_the_wrong_way_is_refused(string path, int commandVariant, string srv, string expected)
    {
        var (code, response) = await hub.SendAsync(path, Request(Supplier, Meter, hub.NextCounter(), commandVariant, srv));

        Assert.Equal(expected, code);
        Assert.Empty(response.Descendants(Sr + "LocalCommand"));
    }

    [Fact]
    public async Task Cv_2_to_an_early_smart_meter_whose_adapter_makes_no_local_commands_is_E17()
    {
        var (code, response) = await hub.SendAsync(NonDevice, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 2, "4.1.1"));

        Assert.Equal("E17", code);
        Assert.Empty(response.Descendants(Sr + "LocalCommand"));
        // The same request over the SM WAN is carried.
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, EarlySmartMeter, hub.NextCounter(), 1, "4.1.1"))).Code);
    }

    [Fact]
    public async Task Cv_2_for_a_device_not_in_the_inventory_is_E19_and_one_its_adapter_does_not_carry_E11()
    {
        Assert.Equal("E19", (await hub.SendAsync(NonDevice, Request(Supplier, UnknownMeter, hub.NextCounter(), 2, "4.1.1"))).Code);
        Assert.Equal("E11", (await hub.SendAsync(NonDevice, Request(Supplier, Meter, hub.NextCounter(), 2, "6.2.4"))).Code);
    }

    [Fact]
    public async Task The_local_command_is_in_the_message_log_with_its_response()
    {
        var counter = hub.NextCounter();
        var (_, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, counter, 2, "4.1.1"));
        var command = Convert.ToBase64String(LocalCommandOf(response));

        var entries = await hub.Store.MessageLog.ReadCorrelatedAsync(new RequestId(Supplier, Meter, counter).ToString(), 1, long.MaxValue).ToListAsync();
        var outbound = Assert.Single(entries, e => e.Record.Direction == Core.Security.MessageDirection.Outbound);
        Assert.Equal("I0", outbound.Record.Outcome);
        Assert.Equal("I0 LocalCommand", Assert.Single(entries, e => e.Record.Direction == Core.Security.MessageDirection.Inbound).Record.Outcome);
        Assert.Contains(command, Encoding.UTF8.GetString(outbound.Record.Payload.Span), StringComparison.Ordinal);
    }

    private static byte[] LocalCommandOf(XDocument response) =>
        Convert.FromBase64String(response.Descendants(Sr + "LocalCommand").Single().Element(Sr + "GBCSPayload")!.Value);

    /// <summary>The installer's hand-held terminal, over the device's HAN: the meter gets the very bytes and answers them.</summary>
    private Task<byte[]> DeliverOverHanAsync(Eui64 device, byte[] command) => hub.Wan.ExchangeAsync(device, command, CancellationToken.None);
}
