using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using NodaTime;
using NodaTime.Testing;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.Gbcs;
using OpenDcc.Core.Wan;
using OpenDcc.Simulator.Devices;
using OpenDcc.Simulator.Wan;

namespace OpenDcc.Simulator.Tests.Wan;

public sealed class SimulatedWanTests
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private readonly FakeClock clock = new(Instant.FromUtc(2026, 11, 28, 9, 0));

    [Fact]
    public void A_fleet_started_again_with_the_same_seed_has_the_same_device_keys_and_another_seed_other_keys()
    {
        using var first = new SimulatedWan(new SimulatedFleet(5, 1), clock, SimulatedWanOptions.Instant);
        using var again = new SimulatedWan(new SimulatedFleet(5, 1), clock, SimulatedWanOptions.Instant);
        using var other = new SimulatedWan(new SimulatedFleet(6, 1), clock, SimulatedWanOptions.Instant);
        var meter = first.Fleet[0].ElectricityMeter.Id;

        Assert.Equal(PublicKey(first, meter), PublicKey(again, meter));
        Assert.NotEqual(PublicKey(first, meter), PublicKey(first, first.Fleet[0].GasMeter.Id));
        Assert.NotEqual(PublicKey(first, meter), PublicKey(other, other.Fleet[0].ElectricityMeter.Id));
        // The comms hub function keeps the HAN device log, so it is reached and has a key; the PPMID is not on the WAN.
        Assert.NotEqual(PublicKey(first, meter), PublicKey(first, first.Fleet[0].CommsHubId));
        Assert.Null(first.FindKeyAgreementKey(first.Fleet[0].PpmidId));
    }

    [Fact]
    public async Task Devices_are_unreachable_until_the_wan_is_given_the_acb_key_then_answer_commands_macd_under_it()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 1), clock, SimulatedWanOptions.Instant);
        var meter = wan.Fleet[0].ElectricityMeter.Id;
        using var devicePublic = wan.FindKeyAgreementKey(meter)!;
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, Acb, meter);
        var command = GbcsCodec.EncodeCommand(new GbcsHeader(1, Acb, meter), new DeviceOperation.ReadImportRegisters(), key);

        var refused = await Assert.ThrowsAsync<DeviceUnreachableException>(() => wan.ExchangeAsync(meter, command, CancellationToken.None));
        Assert.Contains("no ACB key", refused.Message, StringComparison.Ordinal);

        Assert.True(wan.UseAcb(Acb, acbKey.PublicKey));
        Assert.False(wan.UseAcb(Acb, acbKey.PublicKey));
        var answer = GbcsCodec.DecodeResponse(await wan.ExchangeAsync(meter, command, CancellationToken.None), key);
        Assert.True(answer.Succeeded, answer.Reason);
        Assert.IsType<DeviceOutcome.Registers>(answer.Value);
    }

    [Fact]
    public async Task A_command_in_flight_when_the_acb_key_is_replaced_is_answered_under_the_old_key_which_is_let_go_once_it_is_answered()
    {
        using var oldKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var newKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var oldPublic = oldKey.PublicKey;
        using var wan = new SimulatedWan(new SimulatedFleet(5, 1), Acb, oldPublic, clock, new SimulatedWanOptions(Duration.FromMilliseconds(300), 0));
        var meter = wan.Fleet[0].ElectricityMeter.Id;
        using var devicePublic = wan.FindKeyAgreementKey(meter)!;
        using var key = GbcsMacKey.Derive(oldKey, devicePublic, Acb, meter);

        var inFlight = wan.ExchangeAsync(meter, GbcsCodec.EncodeCommand(new GbcsHeader(1, Acb, meter), new DeviceOperation.ReadImportRegisters(), key), CancellationToken.None);
        Assert.True(wan.UseAcb(Acb, newKey.PublicKey));
        Assert.False(inFlight.IsCompleted);
        Assert.NotEmpty(oldPublic.ExportSubjectPublicKeyInfo());

        var answer = GbcsCodec.DecodeResponse(await inFlight, key);
        Assert.True(answer.Succeeded, answer.Reason);
        // Nothing is in flight on the old key any more: the WAN has let it go, not kept it until it is disposed.
        Assert.Throws<ObjectDisposedException>(() => oldPublic.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task A_long_running_simulator_given_key_after_key_keeps_none_of_the_keys_replaced()
    {
        using var wan = new SimulatedWan(new SimulatedFleet(5, 1), clock, SimulatedWanOptions.Instant);
        var replaced = new List<WeakReference>();
        for (var i = 0; i < 5; i++)
        {
            replaced.Add(await UseNewAcbKeyAndExchangeAsync(wan));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // The last key is the devices' now; every one before it is gone.
        Assert.Equal(4, replaced.Count(key => !key.IsAlive));
    }

    /// <summary>Gives the WAN a new ACB key and has a meter answer a command under it; a weak reference to the key the WAN was given.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> UseNewAcbKeyAndExchangeAsync(SimulatedWan wan)
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var given = acbKey.PublicKey;
        Assert.True(wan.UseAcb(Acb, given));
        Assert.Equal(1UL, await CounterOfAnswerAsync(wan, acbKey, 1));
        return new WeakReference(given);
    }

    [Fact]
    public async Task A_device_of_a_simulator_started_again_alerts_with_a_counter_above_the_one_it_alerted_with_before()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var before = new SimulatedWan(new SimulatedFleet(5, 1), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        var first = await CountersOfOutageAlertsAsync(before, acbKey);
        clock.AdvanceMilliseconds(1);
        using var after = new SimulatedWan(new SimulatedFleet(5, 1), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);

        var second = await CountersOfOutageAlertsAsync(after, acbKey);
        Assert.True(first[0] < first[1], "a device's alert counter rises");
        Assert.True(second[0] > first[1], "and keeps rising across a restart of the simulator");
    }

    [Fact]
    public async Task A_power_cut_now_reports_the_comms_hubs_loss_of_power_at_once_and_the_meters_restoration_only_when_the_power_returns()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 2), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        var alerts = new AlertFrames();
        wan.Attach(alerts);
        var site = wan.Fleet[1];
        var start = clock.GetCurrentInstant();

        var cut = wan.CutPowerAsync(site, Duration.FromMilliseconds(300));
        // The comms hub's report to the WAN provider, under its own ID; no frame of the meter's yet.
        Assert.Equal([(site.CommsHubId, start)], alerts.PowerLosses);
        Assert.Empty(Kinds(wan, acbKey, site, alerts));
        Assert.False(cut.IsCompleted);
        clock.AdvanceMilliseconds(300);
        await cut;

        Assert.Equal([DeviceAlertKind.PowerRestored], Kinds(wan, acbKey, site, alerts));
        Assert.Single(alerts.PowerLosses);
        // The site's record of it: the outage from the moment of the cut for the length given.
        Assert.Equal([start], site.PowerLossesBetween(start, start + Duration.FromSeconds(1)));
        Assert.Equal([start + Duration.FromMilliseconds(300)], site.AlertsBetween(start, start + Duration.FromSeconds(1)).Select(a => a.At));
    }

    [Fact]
    public async Task A_sites_devices_cannot_be_reached_while_its_power_is_cut_and_answer_again_once_it_is_back()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 2), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        wan.Attach(new AlertFrames());
        var site = wan.Fleet[0];

        var cut = wan.CutPowerAsync(site, Duration.FromMilliseconds(300));
        foreach (var device in new[] { site.ElectricityMeter.Id, site.GasMeter.Id, site.CommsHubId })
        {
            var refused = await Assert.ThrowsAsync<DeviceUnreachableException>(() => wan.ExchangeAsync(device, [1, 2, 3], CancellationToken.None));
            Assert.Contains("no power", refused.Message, StringComparison.Ordinal);
        }
        // Another site keeps its power: its meter is reached (and drops a command that is no frame).
        var reached = await Assert.ThrowsAsync<DeviceSilentException>(() => wan.ExchangeAsync(wan.Fleet[1].ElectricityMeter.Id, [1, 2, 3], CancellationToken.None));
        Assert.Contains("dropped", reached.Message, StringComparison.Ordinal);
        clock.AdvanceMilliseconds(300);
        await cut;

        Assert.Equal(7UL, await CounterOfAnswerAsync(wan, acbKey, 7));
    }

    [Theory]
    [InlineData(300, 100, 100, 300)]
    [InlineData(300, 100, 500, 600)]
    public async Task A_cut_while_the_power_is_off_reports_no_second_loss_of_power_and_one_restoration_when_the_power_really_returns(int firstMs, int secondAfterMs, int secondMs, int backAfterMs)
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 2), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        var alerts = new AlertFrames();
        wan.Attach(alerts);
        var site = wan.Fleet[1];
        var start = clock.GetCurrentInstant();

        var first = wan.CutPowerAsync(site, Duration.FromMilliseconds(firstMs));
        clock.AdvanceMilliseconds(secondAfterMs);
        var second = wan.CutPowerAsync(site, Duration.FromMilliseconds(secondMs));
        Assert.Equal([(site.CommsHubId, start)], alerts.PowerLosses);
        // The power comes back at the later of the two ends, not before.
        clock.AdvanceMilliseconds(backAfterMs - secondAfterMs - 1);
        await Task.Delay(backAfterMs);
        Assert.Empty(alerts.Frames);
        clock.AdvanceMilliseconds(1);
        await Task.WhenAll(first, second);

        Assert.Equal([DeviceAlertKind.PowerRestored], Kinds(wan, acbKey, site, alerts));
        Assert.Single(alerts.PowerLosses);
        var back = start + Duration.FromMilliseconds(backAfterMs);
        Assert.Equal([back], site.AlertsBetween(start, start + Duration.FromSeconds(1)).Select(a => a.At));
        Assert.Equal([start], site.PowerLossesBetween(start, start + Duration.FromSeconds(1)));
    }

    [Fact]
    public void Devices_installed_under_ids_of_their_own_are_listed_on_the_comms_hub_that_reports_their_site_in_its_region()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 2), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        var meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
        var other = Eui64.Parse("00-DB-12-34-56-78-90-B0");
        wan.InstallSiteDevice(meter, DeviceType.ESME);
        wan.InstallSiteDevice(commsHub, DeviceType.CHF);
        wan.InstallSiteDevice(other, DeviceType.ESME, site: 1);

        var rows = wan.InstalledDevices().ToDictionary(d => d.Id);

        Assert.Equal(commsHub, rows[meter].CommsHub);
        Assert.Equal(commsHub, rows[commsHub].CommsHub);
        Assert.NotNull(rows[commsHub].RadioCell);
        Assert.Equal(SimulatedWorld.RegionOf(wan.Fleet[0]), rows[meter].Region);
        // A site whose hub is not installed: its fleet ID.
        Assert.Equal(wan.Fleet[1].CommsHubId, rows[other].CommsHub);
        Assert.Null(rows[meter].Mpan);
    }

    [Fact]
    public async Task A_power_outage_at_a_site_whose_comms_hub_is_installed_under_an_id_of_its_own_is_reported_under_that_id()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 2), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        var meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        var commsHub = Eui64.Parse("00-DB-12-34-56-78-90-A2");
        wan.Install(meter, wan.Fleet[0].ElectricityMeter);
        wan.Install(commsHub, wan.Fleet[0].CommsHub);
        var alerts = new AlertFrames();
        wan.Attach(alerts);
        var now = clock.GetCurrentInstant();

        await wan.PowerOutageAsync(meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        Assert.Equal([(commsHub, now - Duration.FromMinutes(10))], alerts.PowerLosses);
        Assert.Equal([meter], alerts.From);
    }

    [Fact]
    public async Task A_power_cut_before_any_hub_has_given_the_acb_key_is_refused()
    {
        using var wan = new SimulatedWan(new SimulatedFleet(5, 1), clock, SimulatedWanOptions.Instant);
        await Assert.ThrowsAsync<InvalidOperationException>(() => wan.CutPowerAsync(wan.Fleet[0], Duration.FromSeconds(1)));
        Assert.Empty(wan.Fleet[0].AlertsBetween(Instant.MinValue, Instant.MaxValue));
        Assert.Empty(wan.Fleet[0].PowerLossesBetween(Instant.MinValue, Instant.MaxValue));
    }

    /// <summary>The kinds of the alerts the site's electricity meter sent, read with its MAC key.</summary>
    private static List<DeviceAlertKind> Kinds(SimulatedWan wan, ECDiffieHellman acbKey, SimulatedSite site, AlertFrames alerts)
    {
        using var devicePublic = wan.FindKeyAgreementKey(site.ElectricityMeter.Id)!;
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, Acb, site.ElectricityMeter.Id);
        return [.. alerts.Frames.Select(frame =>
        {
            var alert = GbcsCodec.DecodeAlert(frame, key);
            Assert.True(alert.Succeeded, alert.Reason);
            return alert.Value!.Kind;
        })];
    }

    [Fact]
    public async Task A_device_answers_with_the_counter_of_the_command_it_answers()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var wan = new SimulatedWan(new SimulatedFleet(5, 1), Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);

        Assert.Equal(7_000_000_000_000_000UL, await CounterOfAnswerAsync(wan, acbKey, 7_000_000_000_000_000UL));
    }

    [Fact]
    public async Task The_offline_sites_are_chosen_from_the_seed_and_their_meters_are_unreachable()
    {
        using var acbKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var fleet = new SimulatedFleet(5, 20);
        var offline = fleet.OfflineSites(3).ToList();
        Assert.Equal(offline.Select(s => s.Number), new SimulatedFleet(5, 20).OfflineSites(3).Select(s => s.Number));
        Assert.Equal(3, offline.Select(s => s.Number).Distinct().Count());
        Assert.NotEqual(offline.Select(s => s.Number), new SimulatedFleet(6, 20).OfflineSites(3).Select(s => s.Number));

        using var wan = new SimulatedWan(fleet, Acb, acbKey.PublicKey, clock, SimulatedWanOptions.Instant);
        wan.SetOffline(offline[0], true);
        var refused = await Assert.ThrowsAsync<DeviceUnreachableException>(() => wan.ExchangeAsync(offline[0].GasMeter.Id, [1, 2, 3], CancellationToken.None));
        Assert.Contains("offline", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Sends a register read to site 0's electricity meter and returns the counter of its answer.</summary>
    private static async Task<ulong> CounterOfAnswerAsync(SimulatedWan wan, ECDiffieHellman acbKey, ulong commandCounter)
    {
        var meter = wan.Fleet[0].ElectricityMeter.Id;
        using var devicePublic = wan.FindKeyAgreementKey(meter)!;
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, Acb, meter);
        var command = GbcsCodec.EncodeCommand(new GbcsHeader(commandCounter, Acb, meter), new DeviceOperation.ReadImportRegisters(), key);
        var answer = GbcsCodec.DecodeResponse(await wan.ExchangeAsync(meter, command, CancellationToken.None), key);
        Assert.True(answer.Succeeded, answer.Reason);
        return answer.Header.Counter;
    }

    /// <summary>Cuts site 0's power twice for five minutes and returns the counters of its meter's two restoration alerts.</summary>
    private async Task<ulong[]> CountersOfOutageAlertsAsync(SimulatedWan wan, ECDiffieHellman acbKey)
    {
        var meter = wan.Fleet[0].ElectricityMeter.Id;
        var alerts = new AlertFrames();
        wan.Attach(alerts);
        var now = clock.GetCurrentInstant();
        await wan.PowerOutageAsync(meter, now - Duration.FromMinutes(20), now - Duration.FromMinutes(15));
        await wan.PowerOutageAsync(meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));
        using var devicePublic = wan.FindKeyAgreementKey(meter)!;
        using var key = GbcsMacKey.Derive(acbKey, devicePublic, Acb, meter);
        return [.. alerts.Frames.Select(frame =>
        {
            var alert = GbcsCodec.DecodeAlert(frame, key);
            Assert.True(alert.Succeeded, alert.Reason);
            return alert.Header.Counter;
        })];
    }

    private sealed class AlertFrames : OpenDcc.Core.Alerts.IDeviceAlertSink
    {
        public List<byte[]> Frames { get; } = [];

        public List<Eui64> From { get; } = [];

        public List<(Eui64 CommsHub, Instant Since)> PowerLosses { get; } = [];

        public Task ReceiveAsync(Eui64 device, byte[] message, CancellationToken cancellationToken = default)
        {
            Frames.Add(message);
            From.Add(device);
            return Task.CompletedTask;
        }

        public Task PowerLostAsync(Eui64 commsHub, Instant since, CancellationToken cancellationToken = default)
        {
            PowerLosses.Add((commsHub, since));
            return Task.CompletedTask;
        }
    }

    private static byte[] PublicKey(SimulatedWan wan, Eui64 device)
    {
        using var key = wan.FindKeyAgreementKey(device)!;
        return key.ExportSubjectPublicKeyInfo();
    }
}
