using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Tests.Inventory;

public class DeviceTests
{
    [Theory]
    [InlineData("ESME", DeviceType.ESME)]
    [InlineData("gsme", DeviceType.GSME)]
    [InlineData(" Chf ", DeviceType.CHF)]
    [InlineData("GPF", DeviceType.GPF)]
    [InlineData("ppmid", DeviceType.PPMID)]
    [InlineData("HCALCS", DeviceType.HCALCS)]
    [InlineData("IHD", DeviceType.IHD)]
    public void Device_type_codes_parse_ignoring_case(string code, DeviceType expected)
    {
        Assert.Equal(expected, DeviceTypes.Parse(code));
    }

    [Theory]
    [InlineData("XYZ")]
    [InlineData("0")]
    [InlineData("")]
    [InlineData("ESME GSME")]
    public void An_unknown_device_type_is_refused_listing_the_valid_codes(string code)
    {
        var error = Assert.Throws<FormatException>(() => DeviceTypes.Parse(code));
        Assert.Equal($"unknown device type '{code}'; expected one of ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD", error.Message);
    }

    [Theory]
    [InlineData("Commissioned", SmiStatus.Commissioned)]
    [InlineData("InstalledNotCommissioned", SmiStatus.InstalledNotCommissioned)]
    [InlineData("installed-not-commissioned", SmiStatus.InstalledNotCommissioned)]
    [InlineData("Installed Not Commissioned", SmiStatus.InstalledNotCommissioned)]
    [InlineData("INSTALLED_NOT_COMMISSIONED", SmiStatus.InstalledNotCommissioned)]
    [InlineData("pending", SmiStatus.Pending)]
    [InlineData("Whitelisted", SmiStatus.Whitelisted)]
    [InlineData("Decommissioned", SmiStatus.Decommissioned)]
    [InlineData("Withdrawn", SmiStatus.Withdrawn)]
    [InlineData("Suspended", SmiStatus.Suspended)]
    [InlineData("Recovery", SmiStatus.Recovery)]
    [InlineData("recovered", SmiStatus.Recovered)]
    public void Smi_statuses_parse_in_duis_spaced_hyphenated_or_any_case_form(string text, SmiStatus expected)
    {
        Assert.Equal(expected, SmiStatuses.Parse(text));
    }

    [Theory]
    [InlineData("Installed")]
    [InlineData("3")]
    [InlineData("")]
    public void An_unknown_smi_status_is_refused_listing_the_valid_ones(string text)
    {
        var error = Assert.Throws<FormatException>(() => SmiStatuses.Parse(text));
        Assert.Equal(
            $"unknown SMI status '{text}'; expected one of Pending, Whitelisted, InstalledNotCommissioned, Commissioned, Decommissioned, Withdrawn, Suspended, Recovery, Recovered",
            error.Message);
    }

    [Fact]
    public void Every_type_and_status_reads_back_from_its_own_name()
    {
        Assert.All(DeviceTypes.All, t => Assert.Equal(t, DeviceTypes.Parse(t.ToString())));
        Assert.All(SmiStatuses.All, s => Assert.Equal(s, SmiStatuses.Parse(s.ToString())));
    }

    [Fact]
    public void A_device_with_an_undefined_type_or_status_cannot_be_made()
    {
        var id = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        Assert.Equal("type", Assert.Throws<ArgumentOutOfRangeException>(() => new Device(id, (DeviceType)99, SmiStatus.Commissioned)).ParamName);
        Assert.Equal("status", Assert.Throws<ArgumentOutOfRangeException>(() => new Device(id, DeviceType.ESME, (SmiStatus)99)).ParamName);
    }

    [Fact]
    public void A_meter_serves_its_mpans_and_its_mprn_each_named_by_the_property_that_holds_it()
    {
        var id = Eui64.Parse("00-DB-12-34-56-78-90-A0");
        var import = Mpan.Parse("1312345678118");
        var export = Mpan.Parse("1312345678330");
        var electricity = new Device(id, DeviceType.ESME, SmiStatus.Commissioned) { Mpan = import, ExportMpan = export };
        var gas = new Device(id, DeviceType.GSME, SmiStatus.Commissioned) { Mprn = Mprn.Parse("0123456707") };

        Assert.Equal([(nameof(Device.Mpan), import), (nameof(Device.ExportMpan), export)], electricity.ServedMeterPoints());
        Assert.Equal([(nameof(Device.Mprn), (MeterPoint)Mprn.Parse("0123456707"))], gas.ServedMeterPoints());
        Assert.Empty(new Device(id, DeviceType.PPMID, SmiStatus.Commissioned).ServedMeterPoints());
        Assert.Equal(electricity with { ExportMpan = null }, electricity.Without(export));
        Assert.Equal(gas with { Mprn = null }, gas.Without(Mprn.Parse("0123456707")));
        // A meter point it does not serve leaves it as it is.
        Assert.Equal(electricity, electricity.Without(Mprn.Parse("0123456707")));
    }

    [Fact]
    public void A_duplicate_names_every_known_device()
    {
        var ids = Enumerable.Range(1, 7).Select(i => new Eui64((ulong)i)).ToList();
        Assert.Equal("device 00-00-00-00-00-00-00-01 is already in the inventory", new DuplicateDeviceException(ids[..1]).Message);
        var many = new DuplicateDeviceException(ids);
        Assert.Equal(ids[0], many.Id);
        Assert.StartsWith("7 devices are already in the inventory: 00-00-00-00-00-00-00-01, ", many.Message, StringComparison.Ordinal);
        Assert.EndsWith("00-00-00-00-00-00-00-05, …", many.Message, StringComparison.Ordinal);
    }
}
