using NodaTime;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Security;
using OpenDcc.Core.Wan;

namespace OpenDcc.Storage.Tests;

/// <summary>The smart metering inventory in full (sites, joins, SMI status history, approved models) on every engine.</summary>
public abstract class InventoryContractTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-A0");
    private static readonly Eui64 GasMeter = Eui64.Parse("00-DB-12-34-56-78-90-B0");
    private static readonly Eui64 Ppmid = Eui64.Parse("00-DB-12-34-56-78-90-C0");
    private static readonly Eui64 CommsHub = Eui64.Parse("00-DB-12-34-56-78-90-00");
    private static readonly Eui64 Gpf = Eui64.Parse("00-DB-12-34-56-78-90-01");
    private static readonly Uprn Premises = Uprn.Parse("100023336956");
    private static readonly Instant Monday = Instant.FromUtc(2026, 11, 30, 9, 0);

    [Fact]
    public async Task A_device_keeps_its_manufacturer_firmware_smets_version_premises_and_radio_cell()
    {
        var hub = new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned)
        {
            Manufacturer = "AB01", Model = "CH01", FirmwareVersion = "0002012F", SmetsChtsVersion = "CHTS V1.2", Uprn = Premises,
            RadioCell = "N-0421", Region = WanRegion.North, CommsHub = CommsHub,
        };
        await Store.Inventory.AddDeviceAsync(hub);

        Assert.Equal(hub, await Store.Inventory.FindDeviceAsync(CommsHub));
        Assert.Equal([hub], await Store.Inventory.FindDevicesAtSiteAsync(Premises));
    }

    [Fact]
    public async Task Devices_a_wan_reports_join_the_inventory_without_an_mpan_a_meter_in_service_serves_already()
    {
        var mpan = Mpan.Parse("1312345678118");
        var export = Mpan.Parse("1312345678330");
        var operators = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = mpan };
        var retired = new Device(GasMeter, DeviceType.ESME, SmiStatus.Decommissioned) { ExportMpan = export };
        await Store.Inventory.AddDevicesAsync([operators, retired]);
        var fleetMeter = Eui64.Parse("00-DB-12-34-56-78-91-A0");
        var fleets = new Device(fleetMeter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = mpan, ExportMpan = export };

        var added = await Store.Inventory.AddMissingDevicesAsync([operators, fleets]);

        Assert.Equal(1, added.Count);
        Assert.Equal([new MeterPointLeftOff(fleetMeter, mpan, Meter)], added.MeterPointsLeftOff);
        // The export MPAN is kept: the meter that had it is decommissioned.
        Assert.Equal(fleets with { Mpan = null }, await Store.Inventory.FindDeviceAsync(fleetMeter));
        Assert.Equal([operators], await Store.Inventory.FindDevicesServingAsync([mpan]));
    }

    [Fact]
    public async Task Devices_a_wan_reports_join_the_inventory_without_an_mprn_a_gas_meter_in_service_serves_already()
    {
        var mprn = Mprn.Parse("0123456789");
        var operators = new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = mprn };
        await Store.Inventory.AddDeviceAsync(operators);
        var fleetMeter = Eui64.Parse("00-DB-12-34-56-78-91-B0");
        var fleets = new Device(fleetMeter, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = mprn, Model = "GM01" };

        var added = await Store.Inventory.AddMissingDevicesAsync([fleets]);

        Assert.Equal(1, added.Count);
        Assert.Equal([new MeterPointLeftOff(fleetMeter, mprn, GasMeter)], added.MeterPointsLeftOff);
        Assert.Equal(fleets with { Mprn = null }, await Store.Inventory.FindDeviceAsync(fleetMeter));
        Assert.Equal([operators], await Store.Inventory.FindDevicesServingAsync([mprn]));
    }

    [Fact]
    public async Task An_electricity_meter_keeps_its_secondary_import_and_export_mpans_beside_its_import_mpan_and_is_found_by_any_of_them()
    {
        var import = Mpan.Parse("1312345678118");
        var meter = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = import, SecondaryImportMpan = Mpan.Parse("1312345678224") };
        await Store.Inventory.AddDeviceAsync(meter);
        Assert.Equal(meter, await Store.Inventory.FindDeviceAsync(Meter));

        var exporting = Assert.IsType<Device>(await Store.Inventory.UpdateDeviceAsync(Meter, d => d with { ExportMpan = Mpan.Parse("1312345678330") }, InventoryChange.ByOperator(Monday)));

        Assert.Equal(meter with { ExportMpan = Mpan.Parse("1312345678330") }, exporting);
        Assert.Equal(exporting, await Store.Inventory.FindDeviceAsync(Meter));
        // Any of its MPANs finds the meter, once, however many of them are asked for.
        Assert.Equal([exporting], await Store.Inventory.FindDevicesServingAsync([import]));
        Assert.Equal([exporting], await Store.Inventory.FindDevicesServingAsync([Mpan.Parse("1312345678224")]));
        Assert.Equal([exporting], await Store.Inventory.FindDevicesServingAsync([Mpan.Parse("1312345678330")]));
        Assert.Equal([exporting], await Store.Inventory.FindDevicesServingAsync([import, Mpan.Parse("1312345678224"), Mpan.Parse("1312345678330")]));
    }

    [Fact]
    public async Task Adding_with_a_change_starts_each_device_s_status_history_and_without_one_writes_none()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Pending), new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned)], new InventoryChange(Monday, "12.2", Supplier));
        await Store.Inventory.AddDevicesAsync([new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)]);

        Assert.Equal([new SmiStatusChange(SmiStatus.Pending, Monday, "12.2", Supplier)], await Store.Inventory.StatusHistoryAsync(Meter));
        Assert.Equal([new SmiStatusChange(SmiStatus.Commissioned, Monday, "12.2", Supplier)], await Store.Inventory.StatusHistoryAsync(GasMeter));
        Assert.Empty(await Store.Inventory.StatusHistoryAsync(Ppmid));
    }

    [Fact]
    public async Task An_update_stores_the_new_device_and_a_new_status_joins_the_history_by_srv_and_user()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Pending)], InventoryChange.ByOperator(Monday));

        var installed = await Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.InstalledNotCommissioned, FirmwareVersion = "00000002" }, new InventoryChange(Monday + Duration.FromHours(1), "8.4", Supplier));
        var detailsOnly = await Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Model = "010A030B" }, new InventoryChange(Monday + Duration.FromHours(2), "8.4", Supplier));

        Assert.Equal(new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned) { FirmwareVersion = "00000002" }, installed);
        Assert.Equal(detailsOnly, await Store.Inventory.FindDeviceAsync(Meter));
        Assert.Equal("010A030B", detailsOnly!.Model);
        Assert.Equal(
            [
                new SmiStatusChange(SmiStatus.Pending, Monday, null, null),
                new SmiStatusChange(SmiStatus.InstalledNotCommissioned, Monday + Duration.FromHours(1), "8.4", Supplier),
            ],
            await Store.Inventory.StatusHistoryAsync(Meter));
    }

    [Fact]
    public async Task A_confirmed_commissioning_is_kept_even_when_reporting_the_status_change_fails_and_its_alert_stays_pending()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned)], InventoryChange.ByOperator(Monday));
        var confirmations = new DeviceConfirmations(Store.Inventory, Store.AlertCounters, new CommissioningSink(fails: true), Microsoft.Extensions.Logging.Abstractions.NullLogger<DeviceConfirmations>.Instance);

        // The grain sends the user the device's answer after this returns: a failed report must not stop it.
        var changed = await confirmations.ApplyAsync(Meter, new Core.Translation.DeviceOperation.CommissionDevice(Monday, Duration.FromMinutes(5)), new Core.Translation.DeviceOutcome.Done(), new InventoryChange(Monday + Duration.FromHours(1), "8.1.1", Supplier));

        Assert.True(changed);
        Assert.Equal(SmiStatus.Commissioned, (await Store.Inventory.FindDeviceAsync(Meter))!.Status);
        // Not reported, so not lost: the hub's next start raises it.
        var pending = Assert.Single(await Store.AlertCounters.ListPendingAsync());
        Assert.Equal((PendingAlertSource.MeterCommissioned, Meter, Monday + Duration.FromHours(1), SmiStatus.InstalledNotCommissioned), (pending.Source, pending.Device, pending.ReceivedAt, pending.CommissionedFrom()));
    }

    [Fact]
    public async Task A_confirmed_commissioning_reported_leaves_no_alert_pending_and_one_confirmed_again_raises_none()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned)], InventoryChange.ByOperator(Monday));
        var sink = new CommissioningSink(fails: false);
        var confirmations = new DeviceConfirmations(Store.Inventory, Store.AlertCounters, sink, Microsoft.Extensions.Logging.Abstractions.NullLogger<DeviceConfirmations>.Instance);
        var commission = new Core.Translation.DeviceOperation.CommissionDevice(Monday, Duration.FromMinutes(5));

        Assert.True(await confirmations.ApplyAsync(Meter, commission, new Core.Translation.DeviceOutcome.Done(), new InventoryChange(Monday + Duration.FromHours(1), "8.1.1", Supplier)));
        // Its clock synchronised again: no status change, no alert.
        Assert.False(await confirmations.ApplyAsync(Meter, commission, new Core.Translation.DeviceOutcome.Done(), new InventoryChange(Monday + Duration.FromHours(2), "8.1.1", Supplier)));

        Assert.Equal([Meter], sink.Told);
        Assert.Empty(await Store.AlertCounters.ListPendingAsync());
    }

    [Fact]
    public async Task A_status_change_and_the_alert_it_raises_are_stored_together_or_not_at_all()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned)], InventoryChange.ByOperator(Monday));
        var at = Monday + Duration.FromHours(1);
        var commission = (Func<Device, Device?>)(d => d with { Status = SmiStatus.Commissioned });

        // An alert the store refuses (one with a counter, which it would not take) undoes the change.
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Inventory.UpdateDeviceAsync(Meter, commission, new InventoryChange(at, "8.1.1", Supplier),
            (_, after) => PendingAlert.MeterCommissioned(after.Id, SmiStatus.InstalledNotCommissioned, Guid.NewGuid(), at) with { Counter = 7 }));
        Assert.Equal(SmiStatus.InstalledNotCommissioned, (await Store.Inventory.FindDeviceAsync(Meter))!.Status);
        Assert.Empty(await Store.AlertCounters.ListPendingAsync());
        Assert.Equal([SmiStatus.InstalledNotCommissioned], (await Store.Inventory.StatusHistoryAsync(Meter)).Select(h => h.Status));

        // A change stored keeps its alert, told the device before and after; one that changes nothing raises none.
        Device? toldBefore = null;
        var take = Guid.NewGuid();
        var stored = await Store.Inventory.UpdateDeviceAsync(Meter, commission, new InventoryChange(at, "8.1.1", Supplier),
            (before, after) => PendingAlert.MeterCommissioned(after.Id, (toldBefore = before).Status, take, at));
        var unchanged = await Store.Inventory.UpdateDeviceAsync(Meter, _ => null, InventoryChange.ByOperator(at), (_, _) => throw new InvalidOperationException("nothing changed, nothing raised"));

        Assert.Equal(SmiStatus.InstalledNotCommissioned, toldBefore!.Status);
        Assert.Equal(SmiStatus.Commissioned, stored!.Status);
        Assert.Equal(stored, unchanged);
        var pending = Assert.Single(await Store.AlertCounters.ListPendingAsync());
        Assert.Equal((take, PendingAlertSource.MeterCommissioned, Meter, (ulong?)null, at, SmiStatus.InstalledNotCommissioned), (pending.Take, pending.Source, pending.Device, pending.Counter, pending.ReceivedAt, pending.CommissionedFrom()));
        await Store.AlertCounters.CompleteAsync(take);
        Assert.Empty(await Store.AlertCounters.ListPendingAsync());
    }

    /// <summary>Raises an alert for a meter commissioned, as the hub's DCC alerts do; told of it, fails if asked to.</summary>
    private sealed class CommissioningSink(bool fails) : IDeviceStatusChangeSink
    {
        public List<Eui64> Told { get; } = [];

        public PendingAlert? AlertFor(Device device, SmiStatus from, InventoryChange change) =>
            device.Status == SmiStatus.Commissioned ? PendingAlert.MeterCommissioned(device.Id, from, Guid.NewGuid(), change.At) : null;

        public Task StatusChangedAsync(Device device, SmiStatus from, InventoryChange change, CancellationToken cancellationToken = default)
        {
            if (fails)
            {
                throw new InvalidOperationException("the delivery queue is unavailable");
            }
            Told.Add(device.Id);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task An_update_of_an_unknown_device_finds_nothing_and_one_that_fails_changes_nothing()
    {
        Assert.Null(await Store.Inventory.UpdateDeviceAsync(Meter, d => d with { Status = SmiStatus.Commissioned }, InventoryChange.ByOperator(Monday)));

        await Store.Inventory.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Pending));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.Inventory.UpdateDeviceAsync(Meter, _ => throw new InvalidOperationException("refused"), InventoryChange.ByOperator(Monday)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Inventory.UpdateDeviceAsync(Meter, d => new Device(GasMeter, d.Type, SmiStatus.Commissioned), InventoryChange.ByOperator(Monday)));

        Assert.Equal(new Device(Meter, DeviceType.ESME, SmiStatus.Pending), await Store.Inventory.FindDeviceAsync(Meter));
        Assert.Empty(await Store.Inventory.StatusHistoryAsync(Meter));
    }

    [Fact]
    public async Task Concurrent_updates_of_one_device_each_see_the_other_s_change()
    {
        await Store.Inventory.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { FirmwareVersion = "0" });

        // Each appends a digit to the firmware field: a lost update would leave fewer than 20.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            Store.Inventory.UpdateDeviceAsync(Meter, d => d with { FirmwareVersion = (int.Parse(d.FirmwareVersion!, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }, InventoryChange.ByOperator(Monday)))));

        Assert.Equal("20", (await Store.Inventory.FindDeviceAsync(Meter))!.FirmwareVersion);
    }

    [Fact]
    public async Task Joined_devices_find_each_other_either_way_round_until_unjoined()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned), new Device(Ppmid, DeviceType.PPMID, SmiStatus.Commissioned), new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned), new Device(Gpf, DeviceType.GPF, SmiStatus.Commissioned)]);

        Assert.True(await Store.Inventory.JoinAsync(Meter, Ppmid));
        Assert.False(await Store.Inventory.JoinAsync(Ppmid, Meter));
        Assert.True(await Store.Inventory.JoinAsync(GasMeter, Gpf));
        Assert.True(await Store.Inventory.JoinAsync(GasMeter, Ppmid));

        Assert.Equal([Meter, GasMeter], await Store.Inventory.FindJoinedAsync(Ppmid));
        Assert.Equal([Ppmid], await Store.Inventory.FindJoinedAsync(Meter));
        Assert.Equal([Gpf, Ppmid], await Store.Inventory.FindJoinedAsync(GasMeter));

        Assert.True(await Store.Inventory.UnjoinAsync(Ppmid, Meter));
        Assert.False(await Store.Inventory.UnjoinAsync(Meter, Ppmid));
        Assert.Empty(await Store.Inventory.FindJoinedAsync(Meter));
        Assert.Equal([GasMeter], await Store.Inventory.FindJoinedAsync(Ppmid));
    }

    [Fact]
    public async Task Joining_an_unknown_device_is_refused_naming_it()
    {
        await Store.Inventory.AddDeviceAsync(new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned));

        var error = await Assert.ThrowsAsync<UnknownDeviceException>(() => Store.Inventory.JoinAsync(Meter, Ppmid));

        Assert.Equal(Ppmid, error.Id);
        Assert.Empty(await Store.Inventory.FindJoinedAsync(Meter));
    }

    [Fact]
    public async Task A_comms_hub_another_device_names_is_not_deleted_from_under_it()
    {
        var hub = new Device(CommsHub, DeviceType.CHF, SmiStatus.Pending);
        await Store.Inventory.AddDevicesAsync([hub, new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)], InventoryChange.ByOperator(Monday));
        // Named after the request deleting the hub was checked.
        await Store.Inventory.UpdateDeviceAsync(Ppmid, d => d with { CommsHub = CommsHub }, InventoryChange.ByOperator(Monday));

        var refused = await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(new InventoryChange(Monday, "8.4", Supplier), new DeviceWrite(CommsHub, hub, null)))]));

        Assert.Equal(CommsHub, refused.Id);
        Assert.Equal(hub, await Store.Inventory.FindDeviceAsync(CommsHub));
        await Store.Inventory.UpdateDeviceAsync(Ppmid, d => d with { CommsHub = null }, InventoryChange.ByOperator(Monday));
        await Store.MessageLog.AppendAsync([Logged(new InventoryWrite(new InventoryChange(Monday, "8.4", Supplier), new DeviceWrite(CommsHub, hub, null)))]);
        Assert.Null(await Store.Inventory.FindDeviceAsync(CommsHub));
    }

    [Fact]
    public async Task The_store_answers_when_a_device_first_entered_a_status_from_its_history()
    {
        await Store.Inventory.AddDevicesAsync([new Device(CommsHub, DeviceType.CHF, SmiStatus.Pending), new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned)], InventoryChange.ByOperator(Monday));
        // Commissioned, withdrawn and commissioned again: the first time is the one kept.
        foreach (var (hours, status) in new[] { (1, SmiStatus.Commissioned), (2, SmiStatus.Withdrawn), (3, SmiStatus.Commissioned) })
        {
            await Store.Inventory.UpdateDeviceAsync(CommsHub, d => d with { Status = status }, new InventoryChange(Monday + Duration.FromHours(hours), "8.4", Supplier));
        }

        Assert.Equal(Monday + Duration.FromHours(1), await Store.Inventory.FirstEnteredAsync(CommsHub, SmiStatus.Commissioned));
        Assert.Equal(Monday + Duration.FromHours(2), await Store.Inventory.FirstEnteredAsync(CommsHub, SmiStatus.Withdrawn));
        Assert.Equal(Monday, await Store.Inventory.FirstEnteredAsync(Meter, SmiStatus.Commissioned));
        Assert.Null(await Store.Inventory.FirstEnteredAsync(CommsHub, SmiStatus.Decommissioned));
        Assert.Null(await Store.Inventory.FirstEnteredAsync(Ppmid, SmiStatus.Commissioned));
    }

    [Fact]
    public async Task A_removed_device_takes_its_joins_but_leaves_its_history()
    {
        await Store.Inventory.AddDevicesAsync([new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned), new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)], InventoryChange.ByOperator(Monday));
        await Store.Inventory.JoinAsync(Meter, Ppmid);

        var ppmid = new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending);
        await Store.MessageLog.AppendAsync([Logged(new InventoryWrite(new InventoryChange(Monday, "8.4", Supplier), new DeviceWrite(Ppmid, ppmid, null)))]);
        await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(new InventoryChange(Monday, "8.4", Supplier), new DeviceWrite(Ppmid, ppmid, null)))]));

        Assert.Null(await Store.Inventory.FindDeviceAsync(Ppmid));
        Assert.Empty(await Store.Inventory.FindJoinedAsync(Meter));
        Assert.Single(await Store.Inventory.StatusHistoryAsync(Ppmid));
    }

    [Fact]
    public async Task A_site_is_saved_replaced_and_found_by_uprn_or_by_post_code_and_address()
    {
        await Store.Inventory.SaveSiteAsync(new Site(Premises, "sw1a1aa", "10"));
        await Store.Inventory.SaveSiteAsync(new Site(Premises, "SW1A 1AA", "10 Downing", Supplier));
        await Store.Inventory.SaveSiteAsync(new Site(Uprn.Parse("42"), "SW1A 1AA", "11 Downing"));

        Assert.Equal(new Site(Premises, "SW1A 1AA", "10 Downing", Supplier), await Store.Inventory.FindSiteAsync(Premises));
        Assert.Equal([new Site(Premises, "SW1A 1AA", "10 Downing", Supplier)], await Store.Inventory.FindSitesByAddressAsync("sw1a  1aa", "10 Downing"));
        Assert.Null(await Store.Inventory.FindSiteAsync(Uprn.Parse("43")));
    }

    [Fact]
    public async Task A_site_saved_before_post_codes_were_checked_is_still_read_with_its_post_code_as_stored()
    {
        await Store.Inventory.SaveSiteAsync(new Site(Premises, null, "10"));
        await using (var connection = await Store.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE site SET post_code = '1234 567'";
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal("1234 567", (await Store.Inventory.FindSiteAsync(Premises))!.PostCode);
        Assert.Throws<ArgumentException>(() => new Site(Premises, "1234 567"));
    }

    [Fact]
    public async Task An_inventory_write_logged_with_its_request_adds_changes_joins_and_deletes_devices_with_their_history()
    {
        var meter = new Device(Meter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned) { FirmwareVersion = "0001" };
        var ppmid = new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending);
        await Store.Inventory.AddDevicesAsync([meter, ppmid, new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned)]);
        await Store.Inventory.JoinAsync(Meter, CommsHub);
        var gas = new Device(GasMeter, DeviceType.GSME, SmiStatus.Pending);
        var change = new InventoryChange(Monday, "8.3", Supplier);

        await Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change,
            [new DeviceWrite(Meter, meter, meter with { Status = SmiStatus.Decommissioned }, Unjoin: true), new DeviceWrite(Ppmid, ppmid, null), new DeviceWrite(GasMeter, null, gas), DeviceWrite.Unchanged(meter with { Status = SmiStatus.Decommissioned })],
            [(GasMeter, CommsHub)]))]);

        Assert.Equal(meter with { Status = SmiStatus.Decommissioned }, await Store.Inventory.FindDeviceAsync(Meter));
        Assert.Null(await Store.Inventory.FindDeviceAsync(Ppmid));
        Assert.Equal(gas, await Store.Inventory.FindDeviceAsync(GasMeter));
        Assert.Equal([GasMeter], await Store.Inventory.FindJoinedAsync(CommsHub));
        Assert.Equal((SmiStatus.Decommissioned, "8.3", (Eui64?)Supplier), (await Store.Inventory.StatusHistoryAsync(Meter)).Select(h => (h.Status, h.ServiceReferenceVariant, h.User)).Single());
        Assert.Equal(SmiStatus.Pending, Assert.Single(await Store.Inventory.StatusHistoryAsync(GasMeter)).Status);
        Assert.Equal(1, (await Store.MessageLog.ReadHeadAsync())!.Value.Sequence);
    }

    [Fact]
    public async Task A_gas_meter_paired_with_a_gpf_meanwhile_is_not_paired_with_a_second_one_checked_before()
    {
        // Two 12.2 notices for a known gas meter, one naming each GPF, both checked while it was paired with none: the
        // meter's row is unchanged by either, so only the pairs tell the second that the first has been taken.
        var gas = new Device(GasMeter, DeviceType.GSME, SmiStatus.Pending);
        var gpf = new Device(Gpf, DeviceType.GPF, SmiStatus.Pending);
        var otherGpf = new Device(Eui64.Parse("00-DB-12-34-56-78-90-02"), DeviceType.GPF, SmiStatus.Pending);
        await Store.Inventory.AddDevicesAsync([gas, gpf, otherGpf]);
        var change = new InventoryChange(Monday, "12.2", Supplier);
        InventoryWrite Pairing(Device proxy) => new(change, [DeviceWrite.Unchanged(gas), DeviceWrite.Unchanged(proxy)], [(GasMeter, proxy.Id)]);
        var first = Pairing(gpf);
        var second = Pairing(otherGpf);

        await Store.MessageLog.AppendAsync([Logged(first)]);
        var refused = await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(second)]));

        Assert.Equal(GasMeter, refused.Id);
        Assert.Equal([Gpf], await Store.Inventory.FindJoinedAsync(GasMeter));
        Assert.Empty(await Store.Inventory.FindJoinedAsync(otherGpf.Id));
        // The same pair again is no second GPF.
        await Store.MessageLog.AppendAsync([Logged(Pairing(gpf))]);
        Assert.Equal([Gpf], await Store.Inventory.FindJoinedAsync(GasMeter));
    }

    [Fact]
    public async Task An_inventory_write_whose_device_changed_since_it_was_checked_stores_nothing_nor_its_log_entry()
    {
        var meter = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned);
        await Store.Inventory.AddDevicesAsync([meter, new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending)]);
        var checkedAs = meter with { FirmwareVersion = "0001" };
        var change = new InventoryChange(Monday, "8.4", Supplier);

        // The first device as checked, the second changed since: neither is written, the first's change rolled back too.
        await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change,
            new DeviceWrite(Ppmid, new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending), null),
            new DeviceWrite(Meter, checkedAs, checkedAs with { Status = SmiStatus.Suspended })))]));
        // A device checked as not there that is there now.
        var again = await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(Meter, null, meter)))]));

        Assert.Equal(Meter, again.Id);
        Assert.Equal(meter, await Store.Inventory.FindDeviceAsync(Meter));
        Assert.NotNull(await Store.Inventory.FindDeviceAsync(Ppmid));
        Assert.Empty(await Store.Inventory.StatusHistoryAsync(Meter));
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
    }

    [Fact]
    public async Task An_inventory_write_putting_a_meter_in_service_at_an_mpan_another_meter_in_service_serves_stores_nothing()
    {
        var mpan = Mpan.Parse("1312345678118");
        var meter = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned);
        var other = new Device(GasMeter, DeviceType.ESME, SmiStatus.Commissioned) { ExportMpan = mpan };
        await Store.Inventory.AddDevicesAsync([meter, other]);
        var change = new InventoryChange(Monday, "8.4", Supplier);

        var refused = await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(Meter, meter, meter with { Mpan = mpan })))]));
        Assert.Contains($"MPAN {mpan} is served now by ESME {GasMeter}", refused.Message, StringComparison.Ordinal);
        Assert.Null((await Store.Inventory.FindDeviceAsync(Meter))!.Mpan);

        // Once the other meter is out of service, the meter point is free.
        await Store.Inventory.UpdateDeviceAsync(GasMeter, d => d with { Status = SmiStatus.Decommissioned }, change);
        await Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(Meter, meter, meter with { Mpan = mpan })))]);
        Assert.Equal(mpan, (await Store.Inventory.FindDeviceAsync(Meter))!.Mpan);
    }

    [Fact]
    public async Task Adding_a_meter_in_service_at_an_mpan_another_meter_in_service_serves_is_refused_and_adds_nothing()
    {
        var mpan = Mpan.Parse("1312345678118");
        var serving = new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = mpan };
        await Store.Inventory.AddDevicesAsync([serving, new Device(Gpf, DeviceType.ESME, SmiStatus.Decommissioned) { Mpan = Mpan.Parse("1312345678224") }]);
        var second = new Device(GasMeter, DeviceType.ESME, SmiStatus.InstalledNotCommissioned) { ExportMpan = mpan };

        var refused = await Assert.ThrowsAsync<MeterPointServedException>(() => Store.Inventory.AddDevicesAsync([new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending), second]));

        Assert.Equal((GasMeter, mpan, Meter), (refused.Device, refused.MeterPoint, refused.ServedBy.Id));
        Assert.Equal($"{mpan} (of {GasMeter}) is served already by ESME {Meter} (Commissioned): a meter point has one meter in service", refused.Message);
        Assert.Empty(await Store.Inventory.FindDevicesAsync([Ppmid, GasMeter]));
        // The meter itself added again is a duplicate, not a second meter at its meter point.
        Assert.Equal(Meter, (await Assert.ThrowsAsync<DuplicateDeviceException>(() => Store.Inventory.AddDeviceAsync(serving))).Id);

        // Two new meters at one meter point in one add: the second is refused, naming the first. A meter out of service
        // (decommissioned, its MPAN kept) leaves its meter point free.
        var free = Mpan.Parse("1312345678224");
        var first = new Device(GasMeter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = free };
        var also = Eui64.Parse("00-DB-12-34-56-78-91-A0");
        refused = await Assert.ThrowsAsync<MeterPointServedException>(() => Store.Inventory.AddDevicesAsync([first, new Device(also, DeviceType.ESME, SmiStatus.Commissioned) { SecondaryImportMpan = free }]));
        Assert.Equal((also, free, GasMeter), (refused.Device, refused.MeterPoint, refused.ServedBy.Id));
        await Store.Inventory.AddDevicesAsync([first, new Device(also, DeviceType.ESME, SmiStatus.Withdrawn) { SecondaryImportMpan = free }]);
        Assert.Equal([Gpf, GasMeter, also], (await Store.Inventory.FindDevicesServingAsync([free])).Select(d => d.Id));
    }

    [Fact]
    public async Task An_inventory_write_putting_a_gas_meter_in_service_at_an_mprn_another_gas_meter_in_service_serves_stores_nothing()
    {
        var mprn = Mprn.Parse("0123456789");
        var meter = new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned);
        var other = new Device(Gpf, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = mprn };
        await Store.Inventory.AddDevicesAsync([meter, other]);
        var change = new InventoryChange(Monday, "8.4", Supplier);

        var refused = await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(GasMeter, meter, meter with { Mprn = mprn })))]));
        Assert.Contains($"MPRN {mprn} is served now by GSME {Gpf}", refused.Message, StringComparison.Ordinal);
        Assert.Null((await Store.Inventory.FindDeviceAsync(GasMeter))!.Mprn);
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
        // A new meter at the meter point, written with its log entry, is refused the same.
        var newcomer = new Device(Eui64.Parse("00-DB-12-34-56-78-91-B0"), DeviceType.GSME, SmiStatus.Pending) { Mprn = mprn };
        await Assert.ThrowsAsync<InventoryChangedException>(() => Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(newcomer.Id, null, newcomer)))]));
        Assert.Null(await Store.Inventory.FindDeviceAsync(newcomer.Id));

        // Once the other meter is out of service, the meter point is free.
        await Store.Inventory.UpdateDeviceAsync(Gpf, d => d with { Status = SmiStatus.Withdrawn }, change);
        await Store.MessageLog.AppendAsync([Logged(new InventoryWrite(change, new DeviceWrite(GasMeter, meter, meter with { Mprn = mprn })))]);
        Assert.Equal(mprn, (await Store.Inventory.FindDeviceAsync(GasMeter))!.Mprn);
    }

    [Fact]
    public async Task Adding_a_gas_meter_in_service_at_an_mprn_another_gas_meter_in_service_serves_is_refused_and_adds_nothing()
    {
        var mprn = Mprn.Parse("0123456789");
        var serving = new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = mprn };
        await Store.Inventory.AddDevicesAsync([serving, new Device(Gpf, DeviceType.GSME, SmiStatus.Decommissioned) { Mprn = Mprn.Parse("9876543210") }]);
        var second = new Device(Meter, DeviceType.GSME, SmiStatus.InstalledNotCommissioned) { Mprn = mprn };

        var refused = await Assert.ThrowsAsync<MeterPointServedException>(() => Store.Inventory.AddDevicesAsync([new Device(Ppmid, DeviceType.PPMID, SmiStatus.Pending), second]));

        Assert.Equal((Meter, (MeterPoint)mprn, GasMeter), (refused.Device, refused.MeterPoint, refused.ServedBy.Id));
        Assert.Equal($"{mprn} (of {Meter}) is served already by GSME {GasMeter} (Commissioned): a meter point has one meter in service", refused.Message);
        Assert.Empty(await Store.Inventory.FindDevicesAsync([Ppmid, Meter]));

        // Two new meters at one meter point in one add: the second is refused, naming the first. A meter out of service
        // (decommissioned or withdrawn, its MPRN kept) leaves its meter point free.
        var free = Mprn.Parse("9876543210");
        var first = new Device(Meter, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = free };
        var also = Eui64.Parse("00-DB-12-34-56-78-91-B0");
        refused = await Assert.ThrowsAsync<MeterPointServedException>(() => Store.Inventory.AddDevicesAsync([first, new Device(also, DeviceType.GSME, SmiStatus.Pending) { Mprn = free }]));
        Assert.Equal((also, (MeterPoint)free, Meter), (refused.Device, refused.MeterPoint, refused.ServedBy.Id));
        await Store.Inventory.AddDevicesAsync([first, new Device(also, DeviceType.GSME, SmiStatus.Withdrawn) { Mprn = free }]);
        Assert.Equal([Gpf, Meter, also], (await Store.Inventory.FindDevicesServingAsync([free])).Select(d => d.Id));
    }

    private static MessageLogRecord Logged(InventoryWrite write) =>
        new(Monday, MessageDirection.Inbound, Supplier, $"{Supplier}:{Meter}:1", "I0", "<Request/>"u8.ToArray()) { ChangesInventory = write };

    [Fact]
    public async Task Devices_are_found_by_mprn_and_by_comms_hub()
    {
        var gas = new Device(GasMeter, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = Mprn.Parse("0123456789"), CommsHub = CommsHub };
        var hub = new Device(CommsHub, DeviceType.CHF, SmiStatus.Commissioned);
        var gpf = new Device(Gpf, DeviceType.GPF, SmiStatus.Commissioned) { CommsHub = CommsHub };
        await Store.Inventory.AddDevicesAsync([gas, hub, gpf, new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned)]);

        Assert.Equal([gas], await Store.Inventory.FindDevicesServingAsync([Mprn.Parse("0123456789"), Mprn.Parse("9876543210")]));
        Assert.Equal([hub, gpf, gas], await Store.Inventory.FindDevicesOnCommsHubAsync(CommsHub));
    }

    [Fact]
    public async Task Meters_are_found_by_mpans_and_mprns_asked_for_at_once_each_once()
    {
        var electricity = Mpan.Parse("1312345678118");
        var gas = Mprn.Parse("0123456789");
        await Store.Inventory.AddDevicesAsync([
            new Device(Meter, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = electricity, ExportMpan = Mpan.Parse("1312345678330") },
            new Device(GasMeter, DeviceType.GSME, SmiStatus.Decommissioned) { Mprn = gas },
            new Device(Ppmid, DeviceType.PPMID, SmiStatus.Commissioned),
        ]);

        Assert.Equal([Meter, GasMeter], (await Store.Inventory.FindDevicesServingAsync([electricity, gas, Mpan.Parse("1312345678330"), Mprn.Parse("9876543210")])).Select(d => d.Id));
        Assert.Empty(await Store.Inventory.FindDevicesServingAsync([Mpan.Parse("1312345678224")]));
    }

    [Fact]
    public async Task Approved_models_are_kept_in_upper_case_once_each_and_while_none_are_kept_any_model_is_approved()
    {
        Assert.True(await Store.ApprovedModels.IsApprovedAsync(new ApprovedModel("ZZ99", "anything")));

        Assert.Equal(2, await Store.ApprovedModels.AddApprovedModelsAsync([new ApprovedModel("ab01", "010a030b"), new ApprovedModel("CD02", "00000001"), new ApprovedModel("AB01", "010A030B")]));
        Assert.Equal(0, await Store.ApprovedModels.AddApprovedModelsAsync([new ApprovedModel("AB01", "010A030B")]));

        Assert.Equal([new ApprovedModel("AB01", "010A030B"), new ApprovedModel("CD02", "00000001")], await Store.ApprovedModels.ListApprovedModelsAsync());
        Assert.True(await Store.ApprovedModels.IsApprovedAsync(new ApprovedModel("Ab01", "010A030b")));
        Assert.False(await Store.ApprovedModels.IsApprovedAsync(new ApprovedModel("ZZ99", "anything")));
        Assert.False(await Store.ApprovedModels.IsApprovedAsync(new ApprovedModel("AB01", "00000001")));
    }
}

public sealed class SqliteInventoryTests() : InventoryContractTests(new SqliteEngine());

public sealed class PostgresInventoryTests() : InventoryContractTests(new PostgresEngine())
{
    private static readonly Mpan MeterPoint = Mpan.Parse("1312345678118");
    private static readonly Mprn GasPoint = Mprn.Parse("0123456707");
    private static readonly Instant Monday = Instant.FromUtc(2026, 11, 30, 9, 0);

    /// <summary>
    /// An operator's add and a logged inventory write each check for a meter in service at the meter point and then
    /// write: on PostgreSQL (read committed) both would pass if each checked before the other committed. Each waits
    /// for the meter-point lock (a transaction advisory lock, 4242003), held here by another session, which puts a
    /// meter there meanwhile: the waiting write then sees it. An electricity meter at its MPAN, a gas meter at its MPRN.
    /// </summary>
    [Theory]
    [InlineData(DeviceType.ESME)]
    [InlineData(DeviceType.GSME)]
    public async Task A_meter_put_at_a_meter_point_while_an_add_waits_for_it_fails_the_add(DeviceType type)
    {
        var late = AtTheMeterPoint(new Device(Eui64.Parse("00-DB-12-34-56-78-91-A0"), type, SmiStatus.Commissioned));

        var refused = await Assert.ThrowsAsync<MeterPointServedException>(() => WhileAnotherPutsAMeterAtTheMeterPointAsync(type, () => Store.Inventory.AddDeviceAsync(late)));

        Assert.Equal(late.Id, refused.Device);
        Assert.Null(await Store.Inventory.FindDeviceAsync(late.Id));
    }

    [Theory]
    [InlineData(DeviceType.ESME)]
    [InlineData(DeviceType.GSME)]
    public async Task A_meter_put_at_a_meter_point_while_a_logged_write_waits_for_it_fails_the_write_and_its_log_entry(DeviceType type)
    {
        var late = AtTheMeterPoint(new Device(Eui64.Parse("00-DB-12-34-56-78-91-A0"), type, SmiStatus.InstalledNotCommissioned));
        var supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        var record = new MessageLogRecord(Monday, MessageDirection.Inbound, supplier, $"{supplier}:{late.Id}:1", "I0", "<Request/>"u8.ToArray())
        {
            ChangesInventory = new InventoryWrite(new InventoryChange(Monday, "12.2", supplier), new DeviceWrite(late.Id, null, late)),
        };

        await Assert.ThrowsAsync<InventoryChangedException>(() => WhileAnotherPutsAMeterAtTheMeterPointAsync(type, () => Store.MessageLog.AppendAsync([record])));

        Assert.Null(await Store.Inventory.FindDeviceAsync(late.Id));
        Assert.Null(await Store.MessageLog.ReadHeadAsync());
    }

    private static Device AtTheMeterPoint(Device meter) => meter.Type == DeviceType.GSME ? meter with { Mprn = GasPoint } : meter with { Mpan = MeterPoint };

    private async Task WhileAnotherPutsAMeterAtTheMeterPointAsync(DeviceType type, Func<Task> write)
    {
        await using var other = await Store.OpenConnectionAsync();
        await Execute(other, "SELECT pg_advisory_lock(4242003)");
        var waiting = write();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Convert.ToInt64(await Scalar(other, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242003 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            Assert.False(waiting.IsCompleted, "the write did not wait for the meter-point lock");
            Assert.True(DateTime.UtcNow < deadline, "the write never asked for the meter-point lock");
            await Task.Delay(20);
        }
        await Execute(other, type == DeviceType.GSME
            ? $"INSERT INTO device (id, device_type, smi_status, mprn) VALUES ('00-DB-12-34-56-78-90-B0', 'GSME', 'Commissioned', '{GasPoint}')"
            : $"INSERT INTO device (id, device_type, smi_status, mpan) VALUES ('00-DB-12-34-56-78-90-A0', 'ESME', 'Commissioned', '{MeterPoint}')");
        await Execute(other, "SELECT pg_advisory_unlock(4242003)");
        await waiting;
    }

    private static async Task Execute(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> Scalar(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
