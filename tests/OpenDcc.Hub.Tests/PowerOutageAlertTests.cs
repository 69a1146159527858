using System.Xml.Linq;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Registration;
using OpenDcc.Core.Security;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// A power outage end to end: the comms hub reports its loss of mains to the WAN provider, and the DCC raises the DCC
/// Alert AD1 (<c>PowerOutageEvent</c>), signed by the DSP, to the network operator of the area of the MPAN of the
/// electricity meter on the hub, then to the meter's registered supplier; the meter reports the restoration itself
/// (device alert 8F36), to both.
/// </summary>
public sealed class PowerOutageAlertTests : IAsyncLifetime
{
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync();
        await PutMeterOnCommsHubAsync();
    }

    /// <summary>The test electricity meter is on the test comms hub, serving site 0's MPAN.</summary>
    private async Task PutMeterOnCommsHubAsync() =>
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = CommsHub, Mpan = hub.World.Wan.Fleet[0].Mpan }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_comms_hub_losing_power_sends_the_network_operator_then_the_supplier_a_dsp_signed_AD1_power_outage_event_and_the_meter_its_restoration()
    {
        var now = SystemClock.Instance.GetCurrentInstant();
        var start = now - Duration.FromMinutes(10);
        await hub.World.Wan.PowerOutageAsync(Meter, start, now - Duration.FromMinutes(5));

        var received = await NextAsync(4);
        var outages = received.Where(r => r.Code == DccAlertCodes.PowerOutage).ToList();
        Assert.Equal([NetworkOperator, Supplier], outages.OrderBy(r => r.Id.Counter).Select(r => r.Id.Target));
        Assert.All(outages, outage =>
        {
            // From the DCC (its DSP identity), not from a device.
            Assert.Equal(Dsp, outage.Id.Originator);
            var alertEvent = Assert.Single(outage.Document.Descendants(Sr + "DCCAlert").Single().Elements());
            Assert.Equal(Sr + "PowerOutageEvent", alertEvent.Name);
            Assert.Equal(
                [("CommsHubDeviceID", CommsHub.ToString()), ("StartDateTime", InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss.fff'Z'").Format(start)), ("MPxN", hub.World.Wan.Fleet[0].Mpan.ToString())],
                alertEvent.Elements().Select(e => (e.Name.LocalName, e.Value)));
        });
        var restored = received.Where(r => r.Code == "8F36").ToList();
        Assert.Equal([NetworkOperator, Supplier], restored.OrderBy(r => r.Id.Counter).Select(r => r.Id.Target));
        Assert.All(restored, r => Assert.Equal(Meter, r.Id.Originator));
    }

    [Fact]
    public async Task A_dcc_alert_comes_from_the_dccs_own_eui64_when_its_dsp_identity_is_not_dcc_boxeds()
    {
        // 'opendcc keys init --dsp-id': the alert's originator is the EUI-64 of the identity that signs it.
        var dcc = Eui64.Parse("90-B3-D5-1F-30-00-00-09");
        await hub.DisposeAsync();
        hub = await StartAsync(dspId: dcc);
        await PutMeterOnCommsHubAsync();
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var outages = (await NextAsync(4)).Where(r => r.Code == DccAlertCodes.PowerOutage).ToList();
        Assert.Equal(2, outages.Count);
        Assert.All(outages, outage => Assert.Equal(dcc, outage.Id.Originator));
        using var signer = hub.DspCertificate;
        Assert.Equal(dcc, OrganisationCertificate.FromX509(signer).EntityId);
    }

    [Fact]
    public async Task An_outage_at_an_mpan_whose_area_has_no_network_operator_registered_goes_to_the_supplier_and_is_logged_as_not_sent_to_a_network_operator()
    {
        var mpan = hub.World.Wan.Fleet[0].Mpan;
        hub.World.Registrations.Register(Meter, new MeterPointRegistration(mpan, null, Supplier, NetworkOperator: null));
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        var received = await NextAsync(2);
        Assert.All(received, r => Assert.Equal(Supplier, r.Id.Target));
        Assert.Equal(["8F36", DccAlertCodes.PowerOutage], received.Select(r => r.Code).Order(StringComparer.Ordinal));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
        var notSent = new List<MessageLogRecord>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            if (entry.Record.Outcome.StartsWith("DccAlertNotSent", StringComparison.Ordinal))
            {
                notSent.Add(entry.Record);
            }
        }
        var record = Assert.Single(notSent);
        Assert.Equal(CommsHub.ToString(), record.Correlation);
        Assert.Contains($"no network operator registered for the area of MPAN {mpan}", record.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_comms_hub_with_no_electricity_meter_in_the_inventory_raises_no_outage_alert_and_it_is_logged()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { CommsHub = null }, InventoryChange.ByOperator(SystemClock.Instance.GetCurrentInstant()));
        var now = SystemClock.Instance.GetCurrentInstant();

        await hub.World.Wan.PowerOutageAsync(Meter, now - Duration.FromMinutes(10), now - Duration.FromMinutes(5));

        // Only the meter's own restoration alert, to the network operator and the supplier.
        var received = await NextAsync(2);
        Assert.All(received, r => Assert.Equal("8F36", r.Code));
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
        var outcomes = new List<string>();
        await foreach (var entry in hub.Store.MessageLog.ReadAsync())
        {
            outcomes.Add(entry.Record.Outcome);
        }
        Assert.Contains($"DccAlertNotSent: comms hub {CommsHub} has no electricity meter in the inventory, so no MPAN", outcomes);
    }

    [Fact]
    public async Task A_command_to_a_meter_while_its_sites_power_is_cut_is_answered_E20_and_once_the_power_is_back_I0()
    {
        var cut = hub.World.Wan.CutPowerAsync(hub.World.Wan.Fleet[0], Duration.FromSeconds(3));

        Assert.Equal("E20", await ReadRegistersAsync());
        await cut;
        Assert.Equal("I0", await ReadRegistersAsync());
    }

    /// <summary>Sends the meter a 4.1.1 and returns the code of its response (the outage's alerts delivered meanwhile passed over).</summary>
    private async Task<string> ReadRegistersAsync()
    {
        var counter = hub.NextCounter();
        Assert.Equal("I99", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, Meter, counter, 1, "4.1.1"))).Code);
        var id = new RequestId(Meter, Supplier, counter).ToString();
        while (true)
        {
            var message = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            var code = await hub.CheckSignedResponseAsync(message);
            if (XDocument.Parse(message).Descendants(Sr + "ResponseID").Single().Value == id)
            {
                return code;
            }
        }
    }

    /// <summary>The next <paramref name="count"/> messages delivered, each DSP-signed with I0: ResponseID, alert code (DCC or device alert) and document.</summary>
    private async Task<List<(RequestId Id, string Code, XDocument Document)>> NextAsync(int count)
    {
        var received = new List<(RequestId, string, XDocument)>();
        for (var i = 0; i < count; i++)
        {
            var message = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(message));
            var document = XDocument.Parse(message);
            var code = document.Descendants(Sr + "DCCAlertCode").SingleOrDefault()?.Value ?? document.Descendants(Sr + "AlertCode").Single().Value;
            received.Add((RequestId.Parse(document.Descendants(Sr + "ResponseID").Single().Value), code, document));
        }
        return received;
    }
}
