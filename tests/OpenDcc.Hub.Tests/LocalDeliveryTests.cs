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
    public async Task A_local_command_made_while_a_wan_command_to_the_device_is_in_flight_leaves_that_commands_answer_awaited()
    {
        await using var slow = await StartAsync(wanLatency: Duration.FromMilliseconds(800));
        Assert.Equal("I99", (await slow.SendAsync(SendCommand, Request(Supplier, Meter, slow.NextCounter(), 1, "4.1.1"))).Code);

        Assert.Equal("I0", (await slow.SendAsync(NonDevice, Request(Supplier, Meter, slow.NextCounter(), 2, "4.1.1"))).Code);

        Assert.Equal("I0", await slow.CheckSignedResponseAsync(await slow.Receiver.NextAsync(TimeSpan.FromSeconds(20))));
    }

    [Fact]
    public async Task Cv_6_returns_the_signed_critical_command_with_the_acbs_protection_and_the_meter_acts_only_when_it_is_delivered()
    {
        var signed = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2"));
        var xml = LocalCriticalRequest(new RequestId(Supplier, Meter, hub.NextCounter()), "7.2", signed);

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
    public async Task A_critical_command_whose_counter_another_already_used_gets_no_local_command_so_no_answer_can_be_credited_to_it()
    {
        // A Disable Supply for local delivery, delivered: the meter answers Done under the supplier's counter.
        var counter = hub.NextCounter();
        var disable = hub.SignPreCommand(await hub.TransformAsync(Meter, "7.2", counter: counter));
        var (_, given) = await hub.SendAsync(NonDevice, LocalCriticalRequest(new RequestId(Supplier, Meter, counter), "7.2", disable));
        await DeliverOverHanAsync(Meter, LocalCommandOf(given));

        // A join the supplier made itself under the same counter (a pre-command needs no Transform to be signed), and
        // the same Disable Supply again: both would let the Disable Supply's answer pass for theirs in an 8.13.
        var join = hub.SignPreCommand(Core.Translation.Gbcs.GbcsCodec.EncodePreCommand(new Core.Translation.Gbcs.GbcsHeader(counter, Supplier, Meter), new DeviceOperation.JoinDevice(GasMeter)));
        var (code, response) = await hub.SendAsync(NonDevice, LocalCriticalRequest(new RequestId(Supplier, Meter, hub.NextCounter()), "8.7.1", join));
        Assert.Equal("E44", code);
        Assert.Empty(response.Descendants(Sr + "LocalCommand"));
        Assert.Equal("E44", (await hub.SendAsync(NonDevice, LocalCriticalRequest(new RequestId(Supplier, Meter, hub.NextCounter()), "7.2", disable))).Code);
    }

    [Fact]
    public async Task The_answer_to_another_command_under_the_same_counter_does_not_pass_for_a_local_commands_answer()
    {
        // An ordinary read over the WAN: the meter's answer (Registers) under the ACB's counter n comes to the supplier.
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(Supplier, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);
        var wanAnswer = Convert.FromBase64String(XDocument.Parse(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20))).Descendants(Sr + "GBCSPayload").Single().Value);
        var n = Core.Translation.Gbcs.GbcsCodec.HeaderOf(wanAnswer)!.Value.Counter;

        // A join the supplier signs itself under that very counter, taken for local delivery and never delivered: its
        // counter is above the supplier's last critical one, so it is made.
        var join = hub.SignPreCommand(Core.Translation.Gbcs.GbcsCodec.EncodePreCommand(new Core.Translation.Gbcs.GbcsHeader(n, Supplier, Meter), new DeviceOperation.JoinDevice(GasMeter)));
        var original = new RequestId(Supplier, Meter, hub.NextCounter());
        Assert.Equal("I0", (await hub.SendAsync(NonDevice, LocalCriticalRequest(original, "8.7.1", join))).Code);

        // The read's answer went to the ACB, the join's would go to the supplier: it does not pass, and nothing is joined.
        Assert.Equal("E081302", (await ReturnAsync(original, wanAnswer)).Code);
        Assert.Empty(await hub.Store.Inventory.FindJoinedAsync(Meter));
    }

    [Fact]
    public async Task A_cv_6_pre_command_signed_with_another_key_is_refused_E45_with_no_command()
    {
        var preCommand = await hub.TransformAsync(Meter, "7.2");
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var forged = Core.Translation.Gbcs.GbcsCodec.SignPreCommand(preCommand, forger);
        var xml = LocalCriticalRequest(new RequestId(Supplier, Meter, hub.NextCounter()), "7.2", forged);

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
    public async Task A_variant_that_does_not_fit_the_srv_is_E12_whichever_body_it_carries_and_one_that_fits_with_the_wrong_body_E41()
    {
        // CV 6 with 4.1.1's own body: the variant is what is wrong, not the body.
        var ownBody = Request(Supplier, Meter, hub.NextCounter(), 2, "4.1.1").Replace("<sr:CommandVariant>2<", "<sr:CommandVariant>6<", StringComparison.Ordinal);
        Assert.Equal("E12", (await hub.SendAsync(NonDevice, ownBody)).Code);
        // CV 2 fits 4.1.1: a signed pre-command body is then the wrong body.
        var signedBody = Request(Supplier, Meter, hub.NextCounter(), 6, "4.1.1").Replace("<sr:CommandVariant>6<", "<sr:CommandVariant>2<", StringComparison.Ordinal);
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, signedBody)).Code);
        // A critical SRV with CV 6 fits, and needs its signed pre-command: its own body is the wrong one.
        var criticalOwnBody = Request(Supplier, Meter, hub.NextCounter(), 2, "7.2").Replace("<sr:CommandVariant>2<", "<sr:CommandVariant>6<", StringComparison.Ordinal);
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, criticalOwnBody)).Code);
    }

    [Fact]
    public async Task A_network_operator_that_may_read_the_meter_but_not_return_an_answer_with_8_13_gets_no_local_command_E17()
    {
        Assert.Equal("I99", (await hub.SendAsync(SendCommand, Request(NetworkOperator, Meter, hub.NextCounter(), 1, "4.1.1"))).Code);

        var (code, response) = await hub.SendAsync(NonDevice, Request(NetworkOperator, Meter, hub.NextCounter(), 2, "4.1.1"));

        Assert.Equal("E17", code);
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

    [Fact]
    public async Task The_meters_answer_returned_with_8_13_is_checked_against_the_command_and_passed_back_once()
    {
        var original = new RequestId(Supplier, Meter, hub.NextCounter());
        var (_, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, original.Counter, 2, "4.1.1"));
        var answer = await DeliverOverHanAsync(Meter, LocalCommandOf(response));

        var (code, returned) = await ReturnAsync(original, answer);

        Assert.Equal("I0", code);
        Assert.Equal("8.13", returned.Descendants(Sr + "ServiceReferenceVariant").Single().Value);
        Assert.Equal(answer, Convert.FromBase64String(returned.Descendants(Sr + "GBCSPayload").Single().Value));
        Assert.Equal("E081303", (await ReturnAsync(original, answer)).Code);

        // The original's entries come with those of the 8.13s that returned its answer.
        var outcomes = await hub.Store.MessageLog.ReadCorrelatedAsync(original.ToString(), 1, long.MaxValue).Select(e => e.Record.Outcome).ToListAsync();
        Assert.Equal(6, outcomes.Count);
        Assert.Contains(outcomes, o => o.StartsWith($"I0 answer to {original}", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.StartsWith("E081303", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_log_entry_made_locally_changes_the_inventory_only_when_the_comms_hubs_answer_comes_back()
    {
        var ihd = Eui64.Parse("00-DB-12-34-56-78-91-13");
        await hub.Store.Inventory.AddDevicesAsync([new Core.Inventory.Device(ihd, Core.Inventory.DeviceType.IHD, Core.Inventory.SmiStatus.Pending)], Core.Inventory.InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        var original = new RequestId(Supplier, CommsHub, hub.NextCounter());
        var (code, response) = await hub.SendAsync(NonDevice, Request(Supplier, CommsHub, original.Counter, 2, "8.11",
            $"<sr:DeviceID>{ihd}</sr:DeviceID><sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>90</sr:JoinTimePeriod><sr:InstallCode>30313233343536373839414243444546</sr:InstallCode></sr:AddDeviceToCHFWhitelist>"));
        Assert.Equal("I0", code);

        var answer = await DeliverOverHanAsync(CommsHub, LocalCommandOf(response));
        Assert.Contains(hub.World.Wan.Fleet[0].CommsHub.DeviceLog, e => e.Device == ihd);
        Assert.Equal(Core.Inventory.SmiStatus.Pending, (await hub.Store.Inventory.FindDeviceAsync(ihd))!.Status);

        Assert.Equal("I0", (await ReturnAsync(original, answer)).Code);
        Assert.Equal(Core.Inventory.SmiStatus.Whitelisted, (await hub.Store.Inventory.FindDeviceAsync(ihd))!.Status);
        var change = (await hub.Store.Inventory.StatusHistoryAsync(ihd))[^1];
        Assert.Equal(("8.11", (Eui64?)Supplier), (change.ServiceReferenceVariant, change.User));
    }

    [Fact]
    public async Task An_altered_answer_or_one_to_another_command_is_refused_E081302_and_the_right_one_is_still_taken()
    {
        var first = new RequestId(Supplier, Meter, hub.NextCounter());
        var (_, firstResponse) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, first.Counter, 2, "4.1.1"));
        var firstAnswer = await DeliverOverHanAsync(Meter, LocalCommandOf(firstResponse));
        var second = new RequestId(Supplier, Meter, hub.NextCounter());
        var (_, secondResponse) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, second.Counter, 2, "4.1.1"));
        var secondAnswer = await DeliverOverHanAsync(Meter, LocalCommandOf(secondResponse));
        var altered = (byte[])firstAnswer.Clone();
        altered[40] ^= 1;

        Assert.Equal("E081302", (await ReturnAsync(first, altered)).Code);
        Assert.Equal("E081302", (await ReturnAsync(first, secondAnswer)).Code);
        Assert.Equal("E081302", (await ReturnAsync(first, "not a frame"u8.ToArray())).Code);

        Assert.Equal("I0", (await ReturnAsync(first, firstAnswer)).Code);
        Assert.Equal("I0", (await ReturnAsync(second, secondAnswer)).Code);
    }

    [Fact]
    public async Task An_8_13_naming_no_command_given_to_the_user_is_E081301_and_a_bad_body_E41()
    {
        var never = new RequestId(Supplier, Meter, 999_999);
        Assert.Equal("E081301", (await ReturnAsync(never, [1, 2, 3])).Code);
        Assert.Equal("E081301", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", "<sr:DeviceGBCSResponse>AQID</sr:DeviceGBCSResponse>"))).Code);
        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13",
            $"<sr:OriginalRequestID>{never}</sr:OriginalRequestID><sr:DeviceGBCSResponse>not base64!</sr:DeviceGBCSResponse>"))).Code);
    }

    [Theory]
    [InlineData("<sr:Note>from the installer</sr:Note>", "sr:Note")]
    [InlineData("<x:Note xmlns:x=\"urn:elsewhere\">x</x:Note>", "{urn:elsewhere}Note")]
    [InlineData("<sr:OriginalRequestID>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1</sr:OriginalRequestID>", "sr:OriginalRequestID")]
    public async Task An_8_13_whose_body_holds_an_element_it_does_not_take_is_refused_E41_naming_it_and_leaves_the_answer_to_be_returned(string stray, string named)
    {
        var original = new RequestId(Supplier, Meter, hub.NextCounter());
        var (_, response) = await hub.SendAsync(NonDevice, Request(Supplier, Meter, original.Counter, 2, "4.1.1"));
        var answer = await DeliverOverHanAsync(Meter, LocalCommandOf(response));

        Assert.Equal("E41", (await hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "8.13", LocalCommandResponseBody(original, answer) + stray))).Code);

        var outcomes = await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync();
        Assert.Contains(outcomes, o => o.StartsWith("E41 ", StringComparison.Ordinal) && o.Contains(named, StringComparison.Ordinal));
        Assert.Equal("I0", (await ReturnAsync(original, answer)).Code);
    }

    [Fact]
    public async Task An_answer_returned_more_than_30_days_after_its_command_was_given_is_E081301_and_one_within_them_I0()
    {
        var clock = new NodaTime.Testing.FakeClock(SystemClock.Instance.GetCurrentInstant());
        await using var later = await StartAsync(clock: clock);
        async Task<(RequestId Original, byte[] Answer)> GiveAsync()
        {
            var original = new RequestId(Supplier, Meter, later.NextCounter());
            var (code, response) = await later.SendAsync(NonDevice, Request(Supplier, Meter, original.Counter, 2, "4.1.1"));
            Assert.Equal("I0", code);
            return (original, await DeliverOverHanAsync(Meter, LocalCommandOf(response), later));
        }
        var old = await GiveAsync();
        clock.Advance(Duration.FromDays(1));
        var recent = await GiveAsync();

        clock.Advance(LocalCommands.KeptFor - Duration.FromDays(1) + Duration.FromMinutes(1));

        Assert.Equal("E081301", (await ReturnAsync(old.Original, old.Answer, later)).Code);
        Assert.Equal("I0", (await ReturnAsync(recent.Original, recent.Answer, later)).Code);
        var outcomes = await later.Store.MessageLog.ReadCorrelatedAsync(old.Original.ToString(), 1, long.MaxValue).Select(e => e.Record.Outcome).ToListAsync();
        Assert.Contains(outcomes, o => o.StartsWith("E081301", StringComparison.Ordinal) && o.Contains("in the last 30 days", StringComparison.Ordinal));
    }

    /// <summary>8.13 Return Local Command Response, as the supplier, to this test's hub unless <paramref name="on"/>: the device's answer to the command given under <paramref name="original"/>.</summary>
    private Task<(string Code, XDocument Response)> ReturnAsync(RequestId original, byte[] answer, TestHub? on = null) =>
        (on ?? hub).SendAsync(NonDevice, Request(Supplier, Dsp, (on ?? hub).NextCounter(), 8, "8.13", LocalCommandResponseBody(original, answer)));

    /// <summary>A signed pre-command sent for local delivery (CV 6), unsigned as a DUIS request.</summary>
    private static string LocalCriticalRequest(RequestId id, string srv, byte[] signedPreCommand) =>
        Encoding.UTF8.GetString(DuisRequestWriter.WriteSignedPreCommand(id, ServiceCatalogue.Duis[srv], signedPreCommand, commandVariant: 6));

    private static byte[] LocalCommandOf(XDocument response) =>
        Convert.FromBase64String(response.Descendants(Sr + "LocalCommand").Single().Element(Sr + "GBCSPayload")!.Value);

    /// <summary>The installer's hand-held terminal, over the device's HAN: the meter gets the very bytes and answers them.</summary>
    private Task<byte[]> DeliverOverHanAsync(Eui64 device, byte[] command, TestHub? on = null) => (on ?? hub).Wan.ExchangeAsync(device, command, CancellationToken.None);
}
