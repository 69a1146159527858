using System.Xml.Linq;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Simulator.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>
/// 8.1.1 Commission Device end to end: Transform (CV 4) builds the meter's pre-command, the supplier signs it (CV 5),
/// the simulated meter checks the DCC's time against its clock and commissions itself, and only its confirmation takes
/// the inventory's SMI status from InstalledNotCommissioned to Commissioned. Only approved models are commissioned.
/// </summary>
public sealed class CommissioningTests : IAsyncLifetime
{
    private const string Manufacturer = "AB01";
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync(approvedModels: [new ApprovedModel(Manufacturer, SimulatedWorld.GbcsModel)]);
        // Both meters installed and on the HAN, not yet commissioned; the electricity meter's model is approved, its MPAN the site's.
        var change = InventoryChange.ByOperator(Now);
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.InstalledNotCommissioned, Manufacturer = Manufacturer, Mpan = hub.World.Wan.Fleet[0].Mpan }, change);
        await hub.Store.Inventory.UpdateDeviceAsync(GasMeter, d => d with { Status = SmiStatus.InstalledNotCommissioned, Manufacturer = "ZZ99" }, change);
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    private static Instant Now => SystemClock.Instance.GetCurrentInstant();

    /// <summary>The next two messages to the supplier, both DSP-signed with I0: the device's answer and the DCC alert.</summary>
    private async Task<(string Answer, string DccAlert)> AnswerAndDccAlertAsync()
    {
        var received = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var message = await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("I0", await hub.CheckSignedResponseAsync(message));
            received.Add(message);
        }
        var isAlert = received.ToLookup(m => XDocument.Parse(m).Descendants(DuisNamespaces.Sr + "DCCAlertMessage").Any());
        return (Assert.Single(isAlert[false]), Assert.Single(isAlert[true]));
    }

    private static string Body(Instant currentDateTime, int toleranceSeconds = 60) =>
        $"<sr:CurrentDateTime>{InstantPattern.ExtendedIso.Format(currentDateTime)}</sr:CurrentDateTime><sr:TolerancePeriod>{toleranceSeconds}</sr:TolerancePeriod>";

    [Fact]
    public async Task An_installed_meter_of_an_approved_model_is_commissioned_when_it_confirms_and_its_history_names_the_srv_and_the_supplier()
    {
        var preCommand = await hub.TransformAsync(Meter, "8.1.1", Body(Now));
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);

        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.1.1", hub.SignPreCommand(preCommand)));

        // The device's answer and, since the meter is now Commissioned, the DCC alert: both to the supplier, in either order.
        var (answer, _) = await AnswerAndDccAlertAsync();
        Assert.Equal("8.1.1", XDocument.Parse(answer).Descendants(DuisNamespaces.Sr + "ServiceReferenceVariant").Single().Value);
        Assert.IsType<DeviceOutcome.Done>(hub.ReadDeviceAnswer(answer, Meter));
        Assert.NotNull(hub.World.Wan.Fleet[0].ElectricityMeter.CommissionedAt);
        Assert.Equal(SmiStatus.Commissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
        var commissioned = (await hub.Store.Inventory.StatusHistoryAsync(Meter))[^1];
        Assert.Equal((SmiStatus.Commissioned, "8.1.1", (Eui64?)Supplier), (commissioned.Status, commissioned.ServiceReferenceVariant, commissioned.User));
        // Read Inventory now gives the date it was commissioned (Europe/London).
        var (code, inventory) = await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "8.2", $"<sr:DeviceID>{Meter}</sr:DeviceID>"));
        Assert.Equal("I0", code);
        Assert.Equal(
            commissioned.Since.InZone(DateTimeZoneProviders.Tzdb["Europe/London"]).Date.ToString("uuuu-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            inventory.Descendants(DuisNamespaces.Sr + "DateCommissioned").Single().Value);
    }

    [Fact]
    public async Task A_commissioned_meter_is_reported_to_its_registered_supplier_by_a_signed_dcc_alert_with_its_status_change_and_mpan()
    {
        var preCommand = await hub.TransformAsync(Meter, "8.1.1", Body(Now));
        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.1.1", hub.SignPreCommand(preCommand)));

        var (_, alert) = await AnswerAndDccAlertAsync();

        var document = XDocument.Parse(alert);
        var responseId = RequestId.Parse(document.Descendants(DuisNamespaces.Sr + "ResponseID").Single().Value);
        Assert.Equal((Dsp, Supplier), (responseId.Originator, responseId.Target));
        var message = document.Descendants(DuisNamespaces.Sr + "DCCAlertMessage").Single();
        Assert.Equal(DccAlertCodes.MeterCommissioned, message.Element(DuisNamespaces.Sr + "DCCAlertCode")!.Value);
        var statusChange = message.Element(DuisNamespaces.Sr + "DCCAlert")!.Element(DuisNamespaces.Sr + "DeviceStatusChangeEvent")!;
        Assert.Equal(Meter.ToString(), statusChange.Element(DuisNamespaces.Sr + "DeviceID")!.Value);
        Assert.Equal(
            (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Mpan.ToString(),
            statusChange.Descendants(DuisNamespaces.Sr + "ImportMPxN").Single().Value);
        // Only one: no further alert for the same commissioning.
        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_meter_whose_clock_is_beyond_the_tolerance_refuses_and_stays_installed_not_commissioned()
    {
        var preCommand = await hub.TransformAsync(Meter, "8.1.1", Body(Now - Duration.FromHours(2), toleranceSeconds: 60));

        Assert.Equal("I99", await hub.SendSignedPreCommandAsync(Meter, "8.1.1", hub.SignPreCommand(preCommand)));

        var refused = Assert.IsType<DeviceOutcome.Refused>(hub.ReadDeviceAnswer(await hub.Receiver.NextAsync(TimeSpan.FromSeconds(20)), Meter));
        Assert.Equal(RefusalReason.InvalidState, refused.Reason);
        Assert.Null(hub.World.Wan.Fleet[0].ElectricityMeter.CommissionedAt);
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
    }

    [Fact]
    public async Task A_meter_of_a_model_not_approved_is_refused_E46_at_transform_and_nothing_reaches_it()
    {
        var (code, _) = await hub.SendAsync("/api/v1/serviceT", Request(Supplier, GasMeter, hub.NextCounter(), 4, "8.1.1", Body(Now)));

        Assert.Equal("E46", code);
        Assert.Null(hub.World.Wan.Fleet[0].GasMeter.CommissionedAt);
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await hub.Store.Inventory.FindDeviceAsync(GasMeter))!.Status);
    }

    [Fact]
    public async Task A_signed_commissioning_of_a_model_withdrawn_from_the_approved_list_since_transform_is_refused_E46()
    {
        var preCommand = await hub.TransformAsync(Meter, "8.1.1", Body(Now));
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Manufacturer = "ZZ99" }, InventoryChange.ByOperator(Now));
        await Task.Delay(1100); // the gateway's device cache keeps a device for up to a second

        Assert.Equal("E46", await hub.SendSignedPreCommandAsync(Meter, "8.1.1", hub.SignPreCommand(preCommand)));

        await Assert.ThrowsAsync<TimeoutException>(() => hub.Receiver.NextAsync(TimeSpan.FromSeconds(1)));
        Assert.Null(hub.World.Wan.Fleet[0].ElectricityMeter.CommissionedAt);
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await hub.Store.Inventory.FindDeviceAsync(Meter))!.Status);
    }

    [Fact]
    public async Task Commissioning_a_pending_device_is_refused_E5_and_a_non_critical_variant_E12()
    {
        await hub.Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.Pending }, InventoryChange.ByOperator(Now));

        Assert.Equal("E5", (await hub.SendAsync("/api/v1/serviceT", Request(Supplier, Meter, hub.NextCounter(), 4, "8.1.1", Body(Now)))).Code);
        Assert.Equal("E12", (await hub.SendAsync("/api/v1/serviceS", Request(Supplier, GasMeter, hub.NextCounter(), 1, "8.1.1", Body(Now)))).Code);
    }
}
