using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Wan;

namespace OpenDcc.Cli.Tests;

/// <summary><c>inventory add|import|list</c>: loading the devices the DUIS gateway will recognise.</summary>
public sealed class InventoryCommandTests : IDisposable
{
    private const string Meter = "00-DB-12-34-56-78-90-A0";
    private const string GasMeter = "00-DB-12-34-56-78-90-B0";
    private const string CommsHub = "00-DB-12-34-56-78-90-00";
    private const string Ihd = "00-DB-12-34-56-78-90-C0";
    private readonly CliRun cli = new();

    [Fact]
    public async Task An_added_device_is_listed_commissioned_unless_a_status_is_given()
    {
        var (code, output, _) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "esme");
        Assert.Equal(0, code);
        Assert.Contains($"added ESME {Meter} (Commissioned)", output, StringComparison.Ordinal);
        var (other, _, _) = await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--status", "installed-not-commissioned");
        Assert.Equal(0, other);

        var (listCode, list, _) = await cli.RunWithDataAsync("inventory", "list");
        Assert.Equal(0, listCode);
        Assert.Matches($@"{Meter}\s+ESME\s+Commissioned", Row(list, Meter));
        Assert.Matches($@"{GasMeter}\s+GSME\s+InstalledNotCommissioned", Row(list, GasMeter));
        Assert.Contains("2 devices", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_mprn_failing_the_unconfirmed_check_digit_rule_is_added_with_a_warning_by_add_and_import()
    {
        var (code, output, error) = await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--mprn", "1234567");
        Assert.Equal(0, code);
        Assert.Contains($"added GSME {GasMeter}", output, StringComparison.Ordinal);
        Assert.StartsWith("warning: --mprn: MPRN 1234567 ends in 67, but the community check-digit rule gives 02", error, StringComparison.Ordinal);

        var csv = WriteCsv("device_id,device_type,mprn", $"{Meter},GSME,1234568");
        (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(0, code);
        Assert.Contains("imported 1 device ", output, StringComparison.Ordinal);
        Assert.StartsWith("line 2: warning: mprn: MPRN 1234568 ends in 68", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("90-B3", "ESME", "Commissioned", "--device: ")]
    [InlineData(Meter, "XYZ", "Commissioned", "--type: unknown device type 'XYZ'; expected one of ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD")]
    [InlineData(Meter, "ESME", "Sleeping", "--status: unknown SMI status 'Sleeping'")]
    public async Task A_bad_field_is_refused_naming_the_option(string device, string type, string status, string named)
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", device, "--type", type, "--status", status);
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + named, error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_a_known_device_is_refused_and_keeps_the_first()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME");
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "GSME", "--status", "Pending");
        Assert.Equal(1, code);
        Assert.Equal($"opendcc: device {Meter} is already in the inventory", error.Trim());
        Assert.Matches($@"{Meter}\s+ESME\s+Commissioned", Row((await cli.RunWithDataAsync("inventory", "list")).Output, Meter));
    }

    [Fact]
    public async Task Import_adds_every_row_skipping_blank_lines_and_defaulting_an_empty_status()
    {
        var csv = WriteCsv(
            "device_id,device_type,smi_status",
            $"{Meter},ESME,Commissioned",
            "",
            $"{GasMeter},gsme,Installed Not Commissioned",
            "   ",
            $"\"{CommsHub}\",\"CHF\",");

        var (code, output, _) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(0, code);
        Assert.Contains("imported 3 devices from devices.csv", output, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Matches($@"{GasMeter}\s+GSME\s+InstalledNotCommissioned", Row(list, GasMeter));
        Assert.Matches($@"{CommsHub}\s+CHF\s+Commissioned", Row(list, CommsHub));
        Assert.Contains("3 devices", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_reads_a_quoted_field_with_a_comma_in_it_as_one_field()
    {
        var csv = WriteCsv("device_id,device_type,manufacturer,model", $"{Meter},ESME,\"Acme, Inc\",M1", $"{GasMeter},GSME,\"Gas \"\"Co\"\"\",M2");

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.True(code == 0, error);
        Assert.Contains("imported 2 devices", output, StringComparison.Ordinal);
        Assert.Contains("Acme, Inc", (await cli.RunWithDataAsync("inventory", "show", "--device", Meter)).Output, StringComparison.Ordinal);
        Assert.Contains("Gas \"Co\"", (await cli.RunWithDataAsync("inventory", "show", "--device", GasMeter)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_a_file_with_a_quote_left_open_whole_even_skipping_invalid_rows()
    {
        var csv = WriteCsv("device_id,device_type,model", $"{Meter},ESME,\"M1", $"{GasMeter},GSME,M2", $"{CommsHub},CHF,M3");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(1, code);
        Assert.Contains("devices.csv line 2: a double quote is left open (it runs to the end of the file)", error, StringComparison.Ordinal);
        Assert.DoesNotContain(GasMeter, (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_without_a_status_column_commissions_every_device_and_reads_columns_in_any_order()
    {
        var csv = WriteCsv("device_type,device_id", $"PPMID,{Meter}", $"IHD,{GasMeter}");
        var (code, output, _) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(0, code);
        Assert.Contains("imported 2 devices", output, StringComparison.Ordinal);
        Assert.Matches($@"{GasMeter}\s+IHD\s+Commissioned", Row((await cli.RunWithDataAsync("inventory", "list")).Output, GasMeter));
    }

    [Fact]
    public async Task Model_comms_hub_and_region_are_taken_from_add_and_import_and_listed()
    {
        // The hub may come after the meters that name it in a file; inventory add needs it in the inventory.
        var csv = WriteCsv("device_id,device_type,model,comms_hub,wan_region", $"{GasMeter},GSME,OPENDCC-SIM-GBCS,{CommsHub},South", $"{CommsHub},CHF,,,");
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "import", csv)).ExitCode);
        var (code, _, _) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--model", "OPENDCC-SIM-ES1", "--comms-hub", CommsHub, "--region", "north");
        Assert.Equal(0, code);

        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Matches($@"{Meter}\s+ESME\s+Commissioned\s+OPENDCC-SIM-ES1\s+{CommsHub}\s+North", Row(list, Meter));
        Assert.Matches($@"{GasMeter}\s+GSME\s+Commissioned\s+OPENDCC-SIM-GBCS\s+{CommsHub}\s+South", Row(list, GasMeter));
        // The hub's own row is the one that starts with its ID (the meters' rows name it as their hub).
        Assert.Matches($@"^{CommsHub}\s+CHF\s+Commissioned\s+unknown$", Assert.Single(list.Split('\n'), l => l.Trim().StartsWith(CommsHub, StringComparison.Ordinal)).Trim());
    }

    [Fact]
    public async Task A_device_without_a_region_of_its_own_is_listed_in_its_comms_hubs_region_and_one_in_none_known_as_unknown()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "CHF", "--region", "South")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--comms-hub", CommsHub)).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--comms-hub", CommsHub, "--region", "North")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Ihd, "--type", "IHD")).ExitCode);

        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;

        Assert.Matches($@"^{Meter}\s+ESME\s+Commissioned\s+{CommsHub}\s+South$", Row(list, Meter).Trim());
        // A device's own region is the one recorded for it, as inventory show gives it.
        Assert.Matches($@"^{GasMeter}\s+GSME\s+Commissioned\s+{CommsHub}\s+North$", Row(list, GasMeter).Trim());
        Assert.Matches($@"^{Ihd}\s+IHD\s+Commissioned\s+unknown$", Row(list, Ihd).Trim());
    }

    [Fact]
    public async Task The_mpan_or_mprn_a_meter_serves_is_taken_from_add_and_import_and_a_bad_one_is_refused_naming_it()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--mpan", "12 0000000001 1")).ExitCode);
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "ESME", "--mpan", "1200000000013");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --mpan: MPAN core '1200000000013' has the wrong check digit", error, StringComparison.Ordinal);

        var bad = WriteCsv("device_id,device_type,mpan,mprn", $"{GasMeter},GSME,,12AB", $"{CommsHub},ESME,99000000000,");
        var (importCode, _, importError) = await cli.RunWithDataAsync("inventory", "import", bad);
        Assert.Equal(1, importCode);
        Assert.Contains("line 2: mprn: MPRN '12AB' has a non-digit character 'A'", importError, StringComparison.Ordinal);
        Assert.Contains("line 3: mpan: ", importError, StringComparison.Ordinal);

        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "import", WriteCsv("device_id,device_type,mprn", $"{GasMeter},GSME,3938424403"))).ExitCode);
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Matches($@"{Meter}\s+ESME\s+Commissioned\s+unknown\s+1200000000011", Row(list, Meter));
        Assert.Matches($@"{GasMeter}\s+GSME\s+Commissioned\s+unknown\s+3938424403", Row(list, GasMeter));
    }

    [Fact]
    public async Task A_bad_comms_hub_or_region_is_refused_naming_the_field_or_column()
    {
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--region", "Midlands");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --region: 'Midlands' is not North, Central or South", error, StringComparison.Ordinal);

        var csv = WriteCsv("device_id,device_type,comms_hub,wan_region", $"{Meter},ESME,90-B3,North", $"{GasMeter},GSME,{CommsHub},West");
        var (importCode, _, importError) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, importCode);
        Assert.Contains("line 2: comms_hub: ", importError, StringComparison.Ordinal);
        Assert.Contains("line 3: wan_region: 'West' is not North, Central or South", importError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_refuses_a_comms_hub_that_is_not_a_chf_in_the_inventory()
    {
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--comms-hub", CommsHub);
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --comms-hub: no device {CommsHub} is in the inventory: add the comms hub (CHF) first", error, StringComparison.Ordinal);

        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME")).ExitCode);
        (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--comms-hub", GasMeter);
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --comms-hub: {GasMeter} is a GSME, not a comms hub (CHF)", error, StringComparison.Ordinal);

        Assert.Contains("1 device", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_rows_whose_comms_hub_is_not_a_chf_in_the_inventory_or_a_valid_row_of_the_file()
    {
        const string OtherHub = "00-DB-12-34-56-78-90-01";
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", OtherHub, "--type", "CHF")).ExitCode);
        var csv = WriteCsv(
            "device_id,device_type,comms_hub,model",
            $"{Meter},ESME,{CommsHub},",
            $"{GasMeter},GSME,{Ihd},",
            $"{Ihd},IHD,{OtherHub},",
            $"{CommsHub},CHF,{CommsHub},BAD\u0007",
            $"00-DB-12-34-56-78-90-A1,ESME,00-DB-12-34-56-78-90-02,",
            $"00-DB-12-34-56-78-90-A2,ESME,{OtherHub},");

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(0, code);
        Assert.Contains($"line 2: comms_hub: {CommsHub} is neither in the inventory nor a valid CHF row of this file", error, StringComparison.Ordinal);
        Assert.Contains($"line 3: comms_hub: {Ihd} is an IHD, not a comms hub (CHF)", error, StringComparison.Ordinal);
        Assert.Contains("line 5: model: the value holds a control character", error, StringComparison.Ordinal);
        Assert.Contains("line 6: comms_hub: 00-DB-12-34-56-78-90-02 is neither in the inventory nor a valid CHF row of this file", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 4:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 7:", error, StringComparison.Ordinal);
        Assert.Contains("imported 2 devices", output, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Matches($@"{Ihd}\s+IHD\s+Commissioned\s+{OtherHub}", Row(list, Ihd));
        Assert.Matches($@"00-DB-12-34-56-78-90-A2\s+ESME\s+Commissioned\s+{OtherHub}", Row(list, "00-DB-12-34-56-78-90-A2"));
        Assert.Contains("3 devices", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_refuses_an_mpan_another_meter_in_service_serves_or_one_mpan_in_two_of_a_meters_roles()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", "00-DB-12-34-56-78-90-A9", "--type", "ESME", "--mpan", "1312345678118", "--status", "Decommissioned")).ExitCode);
        // A meter exchanged keeps its MPAN, out of service: the new one takes the meter point.
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--mpan", "1312345678118")).ExitCode);

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "ESME", "--mpan", "1312345678224", "--export-mpan", "1312345678118");
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --export-mpan: 1312345678118 is served already by ESME {Meter} (Commissioned): a meter point has one meter in service", error, StringComparison.Ordinal);

        (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "ESME", "--mpan", "1312345678224", "--export-mpan", "1312345678224");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --export-mpan: 1312345678224 is already the meter's import MPAN", error, StringComparison.Ordinal);
        Assert.Contains("2 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_an_mpan_a_meter_in_service_serves_in_the_inventory_or_on_an_earlier_row()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--mpan", "1312345678118")).ExitCode);
        var csv = WriteCsv(
            "device_id,device_type,mpan,secondary_import_mpan,smi_status",
            $"{GasMeter},ESME,1312345678118,,",
            $"{Ihd},ESME,1312345678224,,",
            $"00-DB-12-34-56-78-90-A1,ESME,1312345678330,1312345678224,",
            $"00-DB-12-34-56-78-90-A2,ESME,1312345678118,,Withdrawn");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Contains($"line 2: mpan: 1312345678118 is served already by ESME {Meter} (Commissioned)", error, StringComparison.Ordinal);
        Assert.Contains("line 4: secondary_import_mpan: 1312345678224 is served already by the meter on line 3", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 3:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 5:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_refuses_an_mprn_another_gas_meter_in_service_serves()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", "00-DB-12-34-56-78-90-B9", "--type", "GSME", "--mprn", "0123456707", "--status", "Decommissioned")).ExitCode);
        // A gas meter exchanged keeps its MPRN, out of service: the new one takes the meter point.
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--mprn", "0123456707")).ExitCode);

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", "00-DB-12-34-56-78-90-B1", "--type", "GSME", "--mprn", "0123456707", "--status", "Pending");
        Assert.Equal(1, code);
        Assert.StartsWith($"opendcc: --mprn: 0123456707 is served already by GSME {GasMeter} (Commissioned): a meter point has one meter in service", error, StringComparison.Ordinal);
        Assert.Contains("2 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_an_mprn_a_gas_meter_in_service_serves_in_the_inventory_or_on_an_earlier_row()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--mprn", "0123456707")).ExitCode);
        var csv = WriteCsv(
            "device_id,device_type,mprn,smi_status",
            $"{Meter},GSME,0123456707,",
            $"{Ihd},GSME,9876543209,",
            $"00-DB-12-34-56-78-90-A1,GSME,9876543209,InstalledNotCommissioned",
            $"00-DB-12-34-56-78-90-A2,GSME,0123456707,Decommissioned");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Contains($"line 2: mprn: 0123456707 is served already by GSME {GasMeter} (Commissioned)", error, StringComparison.Ordinal);
        Assert.Contains("line 4: mprn: 9876543209 is served already by the meter on line 3", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 3:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 5:", error, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Contains("1 device", list, StringComparison.Ordinal);
        Assert.DoesNotContain(Meter, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skipping_invalid_rows_a_faulty_row_takes_no_mpan_from_a_valid_one_after_it()
    {
        var csv = WriteCsv("device_id,device_type,mpan,comms_hub", $"{GasMeter},ESME,1312345678118,{CommsHub}", $"{Meter},ESME,1312345678118,");

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(0, code);
        Assert.Contains("line 2: comms_hub: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("line 3:", error, StringComparison.Ordinal);
        Assert.Contains("imported 1 device", output, StringComparison.Ordinal);
        Assert.Matches($@"{Meter}\s+ESME\s+Commissioned\s+unknown\s+1312345678118", Row((await cli.RunWithDataAsync("inventory", "list")).Output, Meter));
    }

    [Fact]
    public async Task Import_with_bad_rows_reports_each_by_line_and_imports_nothing()
    {
        var csv = WriteCsv(
            "device_id,device_type,smi_status",
            $"{Meter},ESME,Commissioned",
            "90-B3-D5,ESME,Commissioned",
            "",
            $"{GasMeter},XYZ,Commissioned",
            $"{CommsHub},CHF,Asleep",
            $"{CommsHub}-00,CHF");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, code);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("line 3: device_id: EUI-64 '90-B3-D5'", lines[0], StringComparison.Ordinal);
        Assert.Equal("line 5: device_type: unknown device type 'XYZ'; expected one of ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD", lines[1]);
        Assert.StartsWith("line 6: smi_status: unknown SMI status 'Asleep'; expected one of Pending, Whitelisted, InstalledNotCommissioned, Commissioned", lines[2], StringComparison.Ordinal);
        Assert.Equal("line 7: has 2 fields, the header 3", lines[3]);
        Assert.Equal("opendcc: devices.csv: 4 invalid rows; nothing imported", lines[4]);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_ids_repeated_in_the_file_or_already_in_the_inventory_and_imports_nothing()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "CHF");
        var csv = WriteCsv(
            "device_id,device_type",
            $"{Meter},ESME",
            $"{GasMeter},GSME",
            $"{CommsHub},CHF",
            $"{Meter.ToLowerInvariant()},ESME");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, code);
        Assert.Contains($"line 4: device_id: device {CommsHub} is already in the inventory", error, StringComparison.Ordinal);
        Assert.Contains($"line 5: device_id: device {Meter} repeats line 2", error, StringComparison.Ordinal);
        Assert.Contains("2 invalid rows; nothing imported", error, StringComparison.Ordinal);
        Assert.Contains("1 device", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_of_a_well_formed_file_naming_known_devices_imports_nothing()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--status", "Pending");
        var csv = WriteCsv("device_id,device_type,smi_status", $"{Meter},ESME,Commissioned", $"{GasMeter},GSME,Commissioned");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, code);
        Assert.Equal(
            [$"line 3: device_id: device {GasMeter} is already in the inventory", "opendcc: devices.csv: 1 invalid row; nothing imported"],
            error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Matches($@"{GasMeter}\s+GSME\s+Pending", Row(list, GasMeter));
        Assert.Contains("1 device", list, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("device_id,kind", "unknown column 'kind'")]
    [InlineData("device_id,smi_status", "the header needs device_id and device_type")]
    [InlineData("", "empty; the first line must be the header")]
    public async Task Import_refuses_a_file_without_the_header(string header, string fault)
    {
        var csv = WriteCsv(header, header.Length == 0 ? "" : $"{Meter},ESME");
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, code);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_longer_than_a_page_is_one_table_of_every_device_with_its_hubs_region()
    {
        // More than two pages (InventoryCommand.ListPage), each meter's hub on another page than the meter.
        var hubs = Enumerable.Range(0, 10).Select(i => new Device(new Eui64(0x00DB_0000_0000_0000UL + (ulong)i), DeviceType.CHF, SmiStatus.Commissioned) { Region = WanRegion.South }).ToList();
        var meters = Enumerable.Range(0, 2 * InventoryCommand.ListPage + 5)
            .Select(i => new Device(new Eui64(0x00DC_0000_0000_0000UL + (ulong)i), DeviceType.ESME, SmiStatus.Commissioned) { CommsHub = hubs[i % 10].Id }).ToList();
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.Inventory.AddDevicesAsync(hubs);
            await store.Inventory.AddDevicesAsync(meters);
        }

        var (code, list, _) = await cli.RunWithDataAsync("inventory", "list");

        Assert.Equal(0, code);
        var lines = list.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var rows = lines.Where(l => l.StartsWith("  00-D", StringComparison.Ordinal)).ToList();
        Assert.Equal(hubs.Concat(meters).Select(d => d.Id.ToString()), rows.Select(r => r.Trim()[..23]));
        Assert.All(rows, r => Assert.Matches(@"\sSouth\s", r));
        // One table: the headers once, every row's columns where the first's are, no blank line between pages.
        Assert.Single(lines, l => l.Contains("SMI status", StringComparison.Ordinal));
        Assert.Single(rows.Select(r => r.IndexOf("Commissioned", StringComparison.Ordinal)).Distinct());
        Assert.Equal(rows.Count, lines.IndexOf(rows[^1]) - lines.IndexOf(rows[0]) + 1);
        Assert.Contains($"{hubs.Count + meters.Count:N0} devices", list, StringComparison.Ordinal);
    }

    private static string Row(string table, string id) => Assert.Single(table.Split('\n'), l => l.Contains(id, StringComparison.Ordinal));

    private string WriteCsv(params string[] lines)
    {
        var path = Path.Combine(cli.DataDirectory, "devices.csv");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    [Fact]
    public async Task A_site_whose_stored_post_code_predates_the_check_is_changed_keeping_it_until_a_post_code_is_given()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "778", "--address-id", "7")).ExitCode);
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        await using (var connection = await store.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE site SET post_code = '1234 567' WHERE uprn = 778";
            await command.ExecuteNonQueryAsync();
        }

        var (kept, output, _) = await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "778", "--address-id", "8");
        Assert.Equal(0, kept);
        Assert.Contains("post code 1234 567, address identifier 8", output, StringComparison.Ordinal);
        Assert.Contains("post code M22 0RR", (await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "778", "--post-code", "m220rr")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approved_models_are_added_imported_and_listed_and_a_device_of_another_model_is_refused_once_any_is_approved()
    {
        await cli.StartStoreAsync();
        Assert.Contains("every model is accepted", (await cli.RunWithDataAsync("inventory", "models", "list")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "CHF", "--manufacturer", "ZZ99", "--model", "ANY")).ExitCode);

        Assert.Contains("approved AB01/010A030B", (await cli.RunWithDataAsync("inventory", "models", "add", "--manufacturer", "ab01", "--model", "010a030b")).Output, StringComparison.Ordinal);
        var imported = await cli.RunWithDataAsync("inventory", "models", "import", WriteCsv("manufacturer,model", "AB01,010A030B", "CD02,00000001"));
        Assert.Contains("approved 1 new model from", imported.Output, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("inventory", "models", "list")).Output;
        Assert.Matches(@"AB01\s+010A030B", list);
        Assert.Matches(@"CD02\s+00000001", list);
        Assert.Contains("2 approved models", list, StringComparison.Ordinal);

        var refused = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--manufacturer", "ZZ99", "--model", "ANY");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("opendcc: --model: ZZ99/ANY is not an approved device model", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--manufacturer", "CD02", "--model", "00000001")).ExitCode);

        // Half a model cannot be shown approved, and a model alone would pick the device's adapter.
        var modelOnly = await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--model", "ANY");
        Assert.Equal(1, modelOnly.ExitCode);
        Assert.StartsWith("opendcc: --manufacturer: give the manufacturer too: approved models are named by manufacturer and model", modelOnly.Error, StringComparison.Ordinal);
        Assert.StartsWith("opendcc: --model: give the model too", (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME", "--manufacturer", "CD02")).Error, StringComparison.Ordinal);
        var halves = await cli.RunWithDataAsync("inventory", "import", WriteCsv("device_id,device_type,manufacturer,model", $"{GasMeter},GSME,,ANY", $"{Ihd},IHD,CD02,"));
        Assert.Equal(1, halves.ExitCode);
        Assert.Contains("line 2: manufacturer: give the manufacturer too", halves.Error, StringComparison.Ordinal);
        Assert.Contains("line 3: model: give the model too", halves.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", GasMeter, "--type", "GSME")).ExitCode);
    }

    [Fact]
    public async Task A_malformed_models_file_is_refused_naming_the_line_and_approves_nothing()
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "models", "import", WriteCsv("manufacturer,model", "AB01,010A030B", "CD02"));

        Assert.Equal(1, code);
        Assert.Contains("line 3: expected a manufacturer and a model", error, StringComparison.Ordinal);
        Assert.Contains("every model is accepted", (await cli.RunWithDataAsync("inventory", "models", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Site_set_changes_the_details_given_keeps_the_others_and_clears_one_given_empty()
    {
        const string Supplier = "90-B3-D5-1F-30-01-00-00", NetworkOperator = "90-B3-D5-1F-30-02-00-00";
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", Supplier, "--role", "IS", "--name", "Lead Supplier")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", NetworkOperator, "--role", "ED", "--name", "DNO")).ExitCode);
        var (code, output, _) = await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--post-code", "sw1a1aa", "--address-id", "10");
        Assert.Equal(0, code);
        Assert.Contains("site UPRN 100023336956 added: post code SW1A 1AA, address identifier 10, lead supplier none", output, StringComparison.Ordinal);

        (code, output, _) = await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--lead-supplier", Supplier);
        Assert.Equal(0, code);
        Assert.Contains($"site UPRN 100023336956 saved: post code SW1A 1AA, address identifier 10, lead supplier {Supplier}", output, StringComparison.Ordinal);

        Assert.Contains($"post code unknown, address identifier 10, lead supplier {Supplier}", (await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--post-code", "")).Output, StringComparison.Ordinal);
        var (refused, _, error) = await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--lead-supplier", NetworkOperator);
        Assert.Equal(1, refused);
        Assert.StartsWith($"opendcc: --lead-supplier: {NetworkOperator} is ED, not a supplier (IS, ES or GS)", error, StringComparison.Ordinal);

        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--uprn", "100023336956")).ExitCode);
        Assert.Contains($"UPRN 100023336956, 10, lead supplier {Supplier}", (await cli.RunWithDataAsync("inventory", "show", "--device", Meter)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_gives_a_device_s_details_site_joins_and_status_history_set_by_the_operator()
    {
        var (unknown, _, error) = await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--lead-supplier", "90-B3-D5-1F-30-01-00-00");
        Assert.Equal(1, unknown);
        Assert.StartsWith("opendcc: --lead-supplier: 90-B3-D5-1F-30-01-00-00 is not a DCC user", error, StringComparison.Ordinal);
        Assert.Equal(0, (await cli.RunWithDataAsync("users", "add", "--id", "90-B3-D5-1F-30-01-00-00", "--role", "IS", "--name", "Lead Supplier")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "site", "set", "--uprn", "100023336956", "--post-code", "sw1a1aa", "--address-id", "10", "--lead-supplier", "90-B3-D5-1F-30-01-00-00")).ExitCode);
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--manufacturer", "AB01", "--model", "010A030B", "--firmware", "0002012F", "--uprn", "100023336956", "--status", "Pending")).ExitCode);

        var (code, output, _) = await cli.RunWithDataAsync("inventory", "show", "--device", Meter);

        Assert.Equal(0, code);
        Assert.Contains("AB01 / 010A030B", output, StringComparison.Ordinal);
        Assert.Contains("0002012F", output, StringComparison.Ordinal);
        Assert.Contains("UPRN 100023336956, SW1A 1AA 10, lead supplier 90-B3-D5-1F-30-01-00-00", output, StringComparison.Ordinal);
        Assert.Matches(@"Pending\s+2026-11-28T09:00:00Z\s+\(operator\)", output);
    }

    [Fact]
    public async Task Show_says_a_device_taken_in_from_the_wan_has_no_status_history_recorded()
    {
        await using (var store = await OpenDcc.Storage.OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.Inventory.AddMissingDevicesAsync([new Device(Eui64.Parse(Meter), DeviceType.ESME, SmiStatus.Commissioned)]);
        }

        var (code, output, _) = await cli.RunWithDataAsync("inventory", "show", "--device", Meter);

        Assert.Equal(0, code);
        Assert.Matches(@"SMI status\s+Commissioned", output);
        Assert.Contains("SMI status history: none recorded (taken in from the WAN's list of devices", output, StringComparison.Ordinal);
        Assert.DoesNotContain("By SRV", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_gives_an_electricity_meter_s_secondary_import_and_export_mpans_beside_its_meter_point()
    {
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", "--mpan", "1312345678118", "--secondary-import-mpan", "1312345678224", "--export-mpan", "1312345678330")).ExitCode);

        var (code, output, _) = await cli.RunWithDataAsync("inventory", "show", "--device", Meter);

        Assert.Equal(0, code);
        Assert.Matches(@"Meter point\s+1312345678118", output);
        Assert.Matches(@"Secondary import MPAN\s+1312345678224", output);
        Assert.Matches(@"Export MPAN\s+1312345678330", output);
    }

    [Fact]
    public async Task Import_takes_a_comms_hub_s_radio_cell_and_a_meter_s_secondary_import_and_export_mpans()
    {
        var csv = WriteCsv(
            "device_id,device_type,comms_hub,radio_cell,mpan,secondary_import_mpan,export_mpan",
            $"{CommsHub},CHF,{CommsHub},cell-7,,,",
            $"{Meter},ESME,{CommsHub},,1312345678118,1312345678224,1312345678330");

        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "import", csv)).ExitCode);

        var meter = (await cli.RunWithDataAsync("inventory", "show", "--device", Meter)).Output;
        Assert.Matches(@"Secondary import MPAN\s+1312345678224", meter);
        Assert.Matches(@"Export MPAN\s+1312345678330", meter);
        Assert.Matches(@"Comms hub\s+itself \(region unknown, cell cell-7\)", (await cli.RunWithDataAsync("inventory", "show", "--device", CommsHub)).Output);
        // A meter's region and cell are its hub's.
        Assert.Matches(@"Comms hub\s+00-DB-12-34-56-78-90-00 \(region unknown, cell cell-7\)", meter);
    }

    [Fact]
    public async Task Import_refuses_a_radio_cell_or_secondary_mpan_the_device_cannot_have_naming_line_and_column()
    {
        var csv = WriteCsv(
            "device_id,device_type,radio_cell,secondary_import_mpan,export_mpan,wan_region",
            $"{Meter},ESME,cell-7,,,",
            $"{GasMeter},GSME,,1312345678224,,",
            $"{CommsHub},CHF,,,1312345678333,",
            $"{Ihd},IHD,,,,2");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Contains("line 2: radio_cell: only a comms hub (CHF) has a radio cell, not an ESME", error, StringComparison.Ordinal);
        Assert.Contains("line 3: secondary_import_mpan: only an ESME serves a secondary import or export MPAN, not a GSME", error, StringComparison.Ordinal);
        Assert.Contains("line 4: export_mpan: MPAN core '1312345678333' has the wrong check digit", error, StringComparison.Ordinal);
        Assert.Contains("line 5: wan_region: '2' is not North, Central or South", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ESME", "--export-mpan", "1312345678333", "--export-mpan: MPAN core '1312345678333' has the wrong check digit")]
    [InlineData("GSME", "--secondary-import-mpan", "1312345678224", "--secondary-import-mpan: only an ESME serves a secondary import or export MPAN, not a GSME")]
    [InlineData("GSME", "--mpan", "1312345678118", "--mpan: only an ESME serves an MPAN, not a GSME")]
    [InlineData("ESME", "--mprn", "1234567", "--mprn: only a GSME serves an MPRN, not an ESME")]
    [InlineData("ESME", "--radio-cell", "cell-1", "--radio-cell: only a comms hub (CHF) has a radio cell, not an ESME")]
    [InlineData("CHF", "--radio-cell", "cell\u001b[2J", "--radio-cell: the value holds a control character")]
    [InlineData("ESME", "--comms-hub", Meter, "--comms-hub: an ESME cannot be its own comms hub")]
    [InlineData("CHF", "--comms-hub", CommsHub, "--comms-hub: a comms hub is its own, not joined to 00-DB-12-34-56-78-90-00")]
    public async Task A_bad_detail_or_one_the_device_type_cannot_have_is_refused_naming_the_option(string type, string option, string value, string expected)
    {
        await cli.StartStoreAsync();
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", type, option, value);

        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + expected, error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--uprn", "12x", "--uprn: UPRN '12x' has a non-digit character 'x'")]
    [InlineData("--firmware", "123456789", "--firmware: the value is 1 to 8 characters, not '123456789'")]
    [InlineData("--model", "EDMI\u001b[2J", "--model: the value holds a control character")]
    public async Task A_bad_inventory_detail_is_refused_naming_the_option(string option, string value, string expected)
    {
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME", option, value);

        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--post-code: post code 'ZZZ' is not a UK post code: an outward code (one or two letters, a digit, and a letter or digit at most) and an inward code (a digit and two letters), like SW1A 1AA", "site", "set", "--uprn", "100023336956", "--post-code", "ZZZ")]
    [InlineData("--post-code: post code '1234567' is not a UK post code", "site", "set", "--uprn", "999", "--post-code", "1234567")]
    [InlineData("--address-id: an address identifier (DUIS) is 1 to 30 characters", "site", "set", "--uprn", "100023336956", "--address-id", "Flat 1, The Old Rectory, Upper Slaughter")]
    [InlineData("--manufacturer: a device manufacturer is 1 to 30 characters, not ''", "models", "add", "--manufacturer", " ", "--model", "010A030B")]
    [InlineData("--model: a device model holds a control character", "models", "add", "--manufacturer", "AB01", "--model", "01\n0A")]
    public async Task A_bad_site_or_model_field_is_refused_naming_its_option(string expected, params string[] command)
    {
        var (code, _, error) = await cli.RunWithDataAsync(["inventory", .. command]);

        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_refuses_rows_whose_details_the_device_type_cannot_have_naming_line_and_column()
    {
        var csv = WriteCsv(
            "device_id,device_type,mpan,mprn,comms_hub,model",
            $"{Meter},ESME,,1234567,{CommsHub},",
            $"{GasMeter},GSME,1312345678118,,{CommsHub},",
            $"{CommsHub},CHF,,,{CommsHub},OK-1\u0007");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Contains("line 2: mprn: only a GSME serves an MPRN, not an ESME", error, StringComparison.Ordinal);
        Assert.Contains("line 3: mpan: only an ESME serves an MPAN, not a GSME", error, StringComparison.Ordinal);
        Assert.Contains("line 4: model: the value holds a control character", error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.csv", "file: ", "missing.csv: no such file")]
    [InlineData("a-directory", "file: ", "is a directory, not a file")]
    public async Task Import_names_a_path_that_is_not_a_file(string path, string named, string fault)
    {
        Directory.CreateDirectory(Path.Combine(cli.DataDirectory, "a-directory"));
        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", Path.Combine(cli.DataDirectory, path));
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: " + named, error, StringComparison.Ordinal);
        Assert.Contains(fault, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_imports_nothing_when_rows_after_more_than_a_chunk_of_valid_rows_are_invalid()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME");
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 12_000, (6_002, $"{LargeImportFile.Id(6_002)},KETTLE"), (11_000, $"{Meter},ESME"));

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Equal(
            ["line 6002: device_type: unknown device type 'KETTLE'; expected one of ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD", $"line 11000: device_id: device {Meter} is already in the inventory", "opendcc: devices.csv: 2 invalid rows; nothing imported"],
            error.Trim().Split('\n'));
        Assert.Matches(@"(?<![\d,])1 device\b", (await cli.RunWithDataAsync("inventory", "list")).Output);
    }

    [Fact]
    public async Task Skip_invalid_imports_the_valid_rows_of_every_chunk()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", Meter, "--type", "ESME");
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 12_001, (3, $"{LargeImportFile.Id(3)},KETTLE"), (11_000, $"{Meter},ESME"));

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(0, code);
        Assert.Contains("imported 11,998 devices from devices.csv; skipped 2 invalid rows", output, StringComparison.Ordinal);
        Assert.Contains($"line 11000: device_id: device {Meter} is already in the inventory", error, StringComparison.Ordinal);
        Assert.Contains("11,999 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
        Assert.Contains(LargeImportFile.Id(12_001), (await cli.RunWithDataAsync("inventory", "show", "--device", LargeImportFile.Id(12_001))).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_names_a_device_id_repeated_more_than_a_chunk_later()
    {
        var csv = LargeImportFile.Write(Path.Combine(cli.DataDirectory, "devices.csv"), 7_000, (7_000, $"{LargeImportFile.Id(2)},ESME"));

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);

        Assert.Equal(1, code);
        Assert.Contains($"line 7000: device_id: device {LargeImportFile.Id(2)} repeats line 2", error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_takes_a_comms_hub_more_than_a_chunk_after_its_meters_and_a_meter_point_from_a_meter_whose_hub_never_comes()
    {
        // Line 3's hub is not in the file, so line 3 is not imported and line 4 may serve its MPAN.
        var csv = LargeImportFile.Write(
            Path.Combine(cli.DataDirectory, "devices.csv"),
            7_000,
            (2, $"{LargeImportFile.Id(2)},ESME,{CommsHub},"),
            (3, $"{LargeImportFile.Id(3)},ESME,00-DB-12-34-56-78-90-02,1312345678118"),
            (4, $"{LargeImportFile.Id(4)},ESME,{CommsHub},1312345678118"),
            (6_500, $"{CommsHub},CHF,,"));
        File.WriteAllLines(csv, ["device_id,device_type,comms_hub,mpan", .. File.ReadAllLines(csv).Skip(1).Select(l => l.Count(c => c == ',') == 1 ? l + ",," : l)]);

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(0, code);
        Assert.Contains("imported 6,998 devices from devices.csv; skipped 1 invalid row", output, StringComparison.Ordinal);
        Assert.Equal("line 3: comms_hub: 00-DB-12-34-56-78-90-02 is neither in the inventory nor a valid CHF row of this file", error.Trim());
        Assert.Contains("1312345678118", (await cli.RunWithDataAsync("inventory", "show", "--device", LargeImportFile.Id(4))).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skip_invalid_exits_1_when_every_row_was_invalid_and_nothing_was_imported()
    {
        var csv = WriteCsv("device_id,device_type", "00-DB-12-34-56-78-90-C0,TOASTER", $"{Meter},KETTLE");

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(1, code);
        Assert.Contains("imported 0 devices", output, StringComparison.Ordinal);
        Assert.Contains("skipped 2 invalid rows", output, StringComparison.Ordinal);
        Assert.Contains("line 3: device_type: unknown device type 'KETTLE'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skip_invalid_imports_the_valid_rows_and_names_each_invalid_one_by_line()
    {
        await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "CHF");
        var csv = WriteCsv(
            "device_id,device_type,uprn",
            $"{Meter},ESME,100023336956",
            $"{CommsHub},CHF,",
            "00-DB-12-34-56-78-90-C0,TOASTER,",
            $"{GasMeter},GSME,12x");

        var (code, output, error) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");

        Assert.Equal(0, code);
        Assert.Contains("imported 1 device ", output, StringComparison.Ordinal);
        Assert.Contains("skipped 3 invalid rows", output, StringComparison.Ordinal);
        Assert.Contains($"line 3: device_id: device {CommsHub} is already in the inventory", error, StringComparison.Ordinal);
        Assert.Contains("line 4: device_type: unknown device type 'TOASTER'", error, StringComparison.Ordinal);
        Assert.Contains("line 5: uprn: UPRN '12x' has a non-digit character 'x'", error, StringComparison.Ordinal);
        var list = (await cli.RunWithDataAsync("inventory", "list")).Output;
        Assert.Contains("2 devices", list, StringComparison.Ordinal);
        Assert.Contains("UPRN 100023336956", (await cli.RunWithDataAsync("inventory", "show", "--device", Meter)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Early_smart_meters_are_adopted_by_import_only_when_their_model_is_approved()
    {
        await cli.RunWithDataAsync("inventory", "models", "add", "--manufacturer", "ES01", "--model", "LEGACY-1");
        var csv = WriteCsv(
            "device_id,device_type,manufacturer,model,firmware_version",
            $"{Meter},ESME,ES01,LEGACY-1,0100",
            $"{GasMeter},GSME,ES02,LEGACY-9,0100");

        var (code, _, error) = await cli.RunWithDataAsync("inventory", "import", csv);
        Assert.Equal(1, code);
        Assert.Contains("line 3: model: ES02/LEGACY-9 is not an approved device model", error, StringComparison.Ordinal);
        Assert.Contains("1 invalid row; nothing imported", error, StringComparison.Ordinal);
        Assert.Contains("0 devices", (await cli.RunWithDataAsync("inventory", "list")).Output, StringComparison.Ordinal);

        var (skipCode, output, _) = await cli.RunWithDataAsync("inventory", "import", csv, "--mode", "skip-invalid");
        Assert.Equal(0, skipCode);
        Assert.Contains("imported 1 device ", output, StringComparison.Ordinal);
        var shown = (await cli.RunWithDataAsync("inventory", "show", "--device", Meter)).Output;
        Assert.Contains("ES01 / LEGACY-1", shown, StringComparison.Ordinal);
        Assert.Matches(@"Commissioned\s+2026-11-28T09:00:00Z\s+\(operator\)", shown);
    }

    [Fact]
    public async Task An_import_from_a_fifo_whose_writer_has_gone_silent_stops_at_ctrl_c_saying_so_with_130_and_imports_nothing()
    {
        var fifo = MakeFifo();
        // The store made first: the import's transaction is then all it writes.
        Assert.Equal(0, (await cli.RunWithDataAsync("inventory", "add", "--device", CommsHub, "--type", "CHF")).ExitCode);
        using var import = OpenDccProcess.Start("inventory", "import", fifo, "--data", cli.DataDirectory);
        // The writer opens the FIFO (once the import has), writes the header and two rows, and stays open, silent.
        await using var writer = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)).WaitAsync(TimeSpan.FromSeconds(60));
        await writer.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"device_id,device_type,comms_hub\n{Meter},ESME,{CommsHub}\n{GasMeter},GSME,{CommsHub}\n"));
        await writer.FlushAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(import.HasExited, "the import waits for the rest of the file");

        var (code, error, elapsed) = await InterruptAsync(import);

        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"ended {elapsed} after Ctrl-C");
        Assert.True(code == 130, $"exit {code}: {error}");
        Assert.Equal("opendcc: stopped (Ctrl-C or SIGTERM) before it finished", error.Trim());
        var (_, list, _) = await cli.RunWithDataAsync("inventory", "list");
        Assert.Contains("1 device", list, StringComparison.Ordinal);
        Assert.DoesNotContain(Meter, list, StringComparison.Ordinal);
        Assert.DoesNotContain(GasMeter, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_import_from_a_fifo_no_writer_has_opened_stops_at_ctrl_c_saying_so_with_130()
    {
        var fifo = MakeFifo();
        using var import = OpenDccProcess.Start("inventory", "import", fifo, "--data", cli.DataDirectory);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(import.HasExited, "the import waits for a writer");

        var (code, error, elapsed) = await InterruptAsync(import);

        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"ended {elapsed} after Ctrl-C");
        Assert.True(code == 130, $"exit {code}: {error}");
        Assert.Equal("opendcc: stopped (Ctrl-C or SIGTERM) before it finished", error.Trim());
    }

    private string MakeFifo()
    {
        var fifo = Path.Combine(cli.DataDirectory, "devices.csv");
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return fifo;
    }

    /// <summary>Ctrl-C to the command: its exit code, what it said on standard error, and how long it took to end after.</summary>
    private static async Task<(int ExitCode, string Error, TimeSpan Elapsed)> InterruptAsync(OpenDccProcess command)
    {
        var since = System.Diagnostics.Stopwatch.StartNew();
        command.Interrupt();
        var (code, _, error) = await command.RunToEndAsync();
        return (code, error, since.Elapsed);
    }

    public void Dispose() => cli.Dispose();
}
