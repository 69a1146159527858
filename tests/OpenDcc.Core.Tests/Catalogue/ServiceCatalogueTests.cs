using OpenDcc.Core.Catalogue;

namespace OpenDcc.Core.Tests.Catalogue;

/// <summary>The DUIS catalogue pinned to the counts derived from the matrix (duis-and-dcc.md §1.2).</summary>
public class ServiceCatalogueTests
{
    private static readonly ServiceCatalogue Duis = ServiceCatalogue.Duis;

    [Fact]
    public void Catalogue_has_129_variants_of_which_37_are_critical()
    {
        Assert.Equal(129, Duis.Variants.Count);
        Assert.Equal(37, Duis.Variants.Count(v => v.IsCritical));
    }

    [Fact]
    public void Sixteen_variants_are_non_device()
    {
        Assert.Equal(16, Duis.Variants.Count(v => v.IsNonDevice));
    }

    [Fact]
    public void Exactly_thirteen_variants_are_dcc_schedulable_and_they_are_the_ones_the_matrix_lists()
    {
        string[] expected = ["4.6.1", "4.6.2", "4.8.1", "4.8.2", "4.8.3", "4.10", "4.12.1", "4.12.2", "4.14", "4.15", "4.16", "4.17", "14.1"];

        Assert.Equal(expected, Duis.Variants.Where(v => v.IsDccSchedulable).Select(v => v.Id));
    }

    [Theory]
    [InlineData(FutureDatedResponsePattern.Dsp, 45)]
    [InlineData(FutureDatedResponsePattern.Device, 11)]
    [InlineData(FutureDatedResponsePattern.DspAndDevice, 1)]
    [InlineData(FutureDatedResponsePattern.None, 72)]
    public void Future_dated_response_patterns_are_counted_as_in_the_matrix(FutureDatedResponsePattern pattern, int count)
    {
        Assert.Equal(count, Duis.Variants.Count(v => v.FutureDatedResponsePattern == pattern));
    }

    [Fact]
    public void Only_6_23_has_the_dsp_and_device_future_dated_pattern()
    {
        var only = Assert.Single(Duis.Variants, v => v.FutureDatedResponsePattern == FutureDatedResponsePattern.DspAndDevice);
        Assert.Equal("6.23", only.Id);
        Assert.Same(only, Duis["6.23"]);
    }

    [Theory]
    [InlineData("IS", 111)]
    [InlineData("GS", 83)]
    [InlineData("ED", 38)]
    [InlineData("OU", 25)]
    [InlineData("GT", 21)]
    [InlineData("RSA", 18)]
    [InlineData("ES", 16)]
    public void Each_role_may_send_as_many_variants_as_the_matrix_says(string roleCode, int count)
    {
        var role = DccUserRoles.Parse(roleCode);

        Assert.Equal(count, Duis.EligibleFor(role).Count());
        Assert.Equal(count, Duis.Variants.Count(v => (v.EligibleRoles & role) != 0));
    }

    [Fact]
    public void Eligibility_for_several_roles_is_the_union_of_each_role()
    {
        var roles = DccUserRole.ExportSupplier | DccUserRole.GasTransporter;
        var union = Duis.EligibleFor(DccUserRole.ExportSupplier).Union(Duis.EligibleFor(DccUserRole.GasTransporter)).Select(v => v.Id).ToHashSet();

        Assert.Equal(union.Order(StringComparer.Ordinal), Duis.EligibleFor(roles).Select(v => v.Id).Order(StringComparer.Ordinal));
        Assert.True(union.Count < 16 + 21, "ES and GT share some variants, so the union is smaller than the sum");
    }

    [Fact]
    public void Variants_7_16_8_5_and_8_6_have_no_eligible_roles()
    {
        Assert.Equal(["7.16", "8.5", "8.6"], Duis.Variants.Where(v => v.EligibleRoles == DccUserRole.None).Select(v => v.Id));

        var allRoles = DccUserRoles.All.Aggregate(DccUserRole.None, (acc, r) => acc | r);
        Assert.DoesNotContain(Duis.EligibleFor(allRoles), v => v.Id is "7.16" or "8.5" or "8.6");
    }

    [Fact]
    public void Read_instantaneous_import_registers_is_4_1_1_for_importers_gas_suppliers_and_networks()
    {
        var srv = Duis["4.1.1"];

        Assert.Equal("Read Instantaneous Import Registers", srv.Name);
        Assert.Equal("4.1", srv.ServiceReference);
        Assert.Equal(DccUserRole.ImportSupplier | DccUserRole.GasSupplier | DccUserRole.ElectricityDistributor | DccUserRole.GasTransporter, srv.EligibleRoles);
        Assert.False(srv.IsCritical);
        Assert.False(srv.IsNonDevice);
        Assert.Equal("4.1.1 Read Instantaneous Import Registers", srv.ToString());
    }

    [Fact]
    public void Read_inventory_8_2_is_non_device_and_open_to_every_role()
    {
        var srv = Duis["8.2"];

        Assert.True(srv.IsNonDevice);
        Assert.False(srv.IsCritical);
        Assert.Equal("8.2", srv.ServiceReference);
        Assert.All(DccUserRoles.All, role => Assert.True(srv.IsEligibleFor(role), $"8.2 should be eligible for {role.Code()}"));
    }

    [Fact]
    public void Update_security_credentials_for_change_of_supplier_6_23_responds_from_dsp_and_device()
    {
        Assert.Equal(FutureDatedResponsePattern.DspAndDevice, Duis["6.23"].FutureDatedResponsePattern);
    }

    [Theory]
    [InlineData("4.1.1", "4.1")]
    [InlineData("8.2", "8.2")]
    [InlineData("8.14.3", "8.14")]
    [InlineData("4.10", "4.10")]
    [InlineData("14.1", "14.1")]
    public void Service_reference_is_the_variant_without_its_third_part(string id, string serviceReference)
    {
        Assert.Equal(serviceReference, Duis[id].ServiceReference);
    }

    [Fact]
    public void Every_service_reference_is_a_prefix_of_its_variant()
    {
        Assert.All(Duis.Variants, v =>
        {
            Assert.Equal(2, v.ServiceReference.Split('.').Length);
            Assert.True(v.Id == v.ServiceReference || v.Id.StartsWith(v.ServiceReference + ".", StringComparison.Ordinal), v.Id);
        });
    }

    [Fact]
    public void Variant_ids_are_unique()
    {
        var ids = Duis.Variants.Select(v => v.Id).ToList();

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Variants_are_in_catalogue_order_from_1_1_1_to_14_1()
    {
        Assert.Equal("1.1.1", Duis.Variants[0].Id);
        Assert.Equal("14.1", Duis.Variants[^1].Id);
    }

    [Fact]
    public void Unknown_variant_is_not_found_and_the_indexer_names_it()
    {
        Assert.False(Duis.TryGet("99.9", out _));
        Assert.True(Duis.TryGet("4.1.1", out var known));
        Assert.Equal("4.1.1", known.Id);

        var error = Assert.Throws<KeyNotFoundException>(() => Duis["99.9"]);
        Assert.Contains("'99.9'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_reads_every_field_and_skips_comments_and_blank_lines()
    {
        var text = "# srv\tname\t...\n\n1.1.1\tUpdate Import Tariff (Primary Element)\tY\tDevice\tN\tN\tis GS\tUpdateImportTariffPrimaryElement\n8.2\tRead Inventory\tN\tNone\tY\tY\tOU\tReadInventory\n";

        var catalogue = ServiceCatalogue.Parse(new StringReader(text));

        Assert.Equal(["1.1.1", "8.2"], catalogue.Variants.Select(v => v.Id));
        Assert.Equal(
            new ServiceReferenceVariant("1.1.1", "Update Import Tariff (Primary Element)", "1.1", true, FutureDatedResponsePattern.Device, false, false, DccUserRole.ImportSupplier | DccUserRole.GasSupplier, "UpdateImportTariffPrimaryElement"),
            catalogue["1.1.1"]);
        Assert.Equal(
            new ServiceReferenceVariant("8.2", "Read Inventory", "8.2", false, FutureDatedResponsePattern.None, true, true, DccUserRole.OtherUser, "ReadInventory"),
            catalogue["8.2"]);
    }

    [Fact]
    public void Parse_accepts_a_variant_with_no_roles()
    {
        var catalogue = ServiceCatalogue.Parse(new StringReader("8.5\tService Opt Out\tN\tDsp\tN\tN\t\tServiceOptOut\n"));

        Assert.Equal(DccUserRole.None, catalogue["8.5"].EligibleRoles);
    }

    [Theory]
    [InlineData("1.2\tToo few fields\tY", "8 tab-separated fields, found 3")]
    [InlineData("1.2\tBad flag\tyes\tNone\tN\tN\tIS\tBodyElement", "'yes'")]
    [InlineData("1.2\tBad flag\tN\tNone\tN\t1\tIS\tBodyElement", "'1'")]
    [InlineData("1.2\tBad pattern\tN\tSometimes\tN\tN\tIS\tBodyElement", "'Sometimes'")]
    [InlineData("1.2\tNumeric pattern\tN\t7\tN\tN\tIS\tBodyElement", "'7'")]
    [InlineData("1.2\tBad role\tN\tNone\tN\tN\tIS XX\tBodyElement", "'XX'")]
    [InlineData("1.1.1\tTwice\tN\tNone\tN\tN\tIS\tBodyElement", "1.1.1 appears twice")]
    public void Parse_rejects_a_malformed_line_naming_the_line_number(string badLine, string fault)
    {
        var text = "# header\n1.1.1\tGood\tY\tDevice\tN\tN\tIS\tGood\n" + badLine + "\n";

        var error = Assert.Throws<FormatException>(() => ServiceCatalogue.Parse(new StringReader(text)));

        Assert.Contains("catalogue line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains(fault, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4.1.1", "ReadInstantaneousImportRegisters")]
    [InlineData("8.2", "ReadInventory")]
    [InlineData("12.2", "DevicePrenotification")]
    public void Every_variant_names_its_request_body_element(string srv, string element)
    {
        Assert.Equal(element, ServiceCatalogue.Duis[srv].BodyElement);
        Assert.All(ServiceCatalogue.Duis.Variants, v => Assert.Matches("^[A-Z][A-Za-z0-9]+$", v.BodyElement));
    }
}
