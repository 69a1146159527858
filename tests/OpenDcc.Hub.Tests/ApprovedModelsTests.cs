using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>Only devices of an approved model may be pre-notified into the inventory.</summary>
public sealed class ApprovedModelsTests : IAsyncLifetime
{
    private TestHub hub = null!;

    public async Task InitializeAsync() => hub = await TestHub.StartAsync(approvedModels: [new ApprovedModel("AB01", "010A030B")]);

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_pre_notified_device_of_an_approved_model_joins_with_its_model_and_another_model_is_refused()
    {
        var approved = Eui64.Parse("00-DB-12-34-56-78-91-01");
        var unapproved = Eui64.Parse("00-DB-12-34-56-78-91-02");

        Assert.Equal("I0", (await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "12.2", PreNotification(approved, "ab01", "010A030B")))).Code);
        Assert.Equal(DuisGatewayModelNotApproved, (await hub.SendAsync("/api/v1/serviceD", Request(Supplier, Dsp, hub.NextCounter(), 8, "12.2", PreNotification(unapproved, "ZZ99", "00000001")))).Code);

        Assert.Equal(new Device(approved, DeviceType.ESME, SmiStatus.Pending) { Manufacturer = "AB01", Model = "010A030B" }, await hub.Store.Inventory.FindDeviceAsync(approved));
        Assert.Null(await hub.Store.Inventory.FindDeviceAsync(unapproved));
    }

    private const string DuisGatewayModelNotApproved = "E120201";

    private static string PreNotification(Eui64 device, string manufacturer, string model) =>
        $"<sr:DeviceID>{device}</sr:DeviceID><sr:DeviceManufacturer>{manufacturer}</sr:DeviceManufacturer><sr:DeviceModel>{model}</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>";
}
