using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Wan;
using static OpenDcc.Hub.Tests.TestHub;

namespace OpenDcc.Hub.Tests;

/// <summary>12.1 Request WAN Matrix through the hub: by UPRN or by partial address, answered from the coverage data.</summary>
public sealed class WanMatrixTests : IAsyncLifetime
{
    private const string NonDevice = "/api/v1/serviceD";
    private static readonly XNamespace Sr = DuisNamespaces.Sr;
    private static readonly Uprn Premises = Uprn.Parse("100023336956");
    private TestHub hub = null!;

    public async Task InitializeAsync()
    {
        hub = await StartAsync();
        await hub.Store.Inventory.SaveSiteAsync(new Site(Premises, "M22 0RR", "10"));
        await hub.Store.WanCoverage.ReplaceAsync(
        [
            new WanCoverage("M22", WanRegion.Central, false, new LocalDate(2027, 3, 31), "Cellular", ConnectivityLikelihood.Low, "External aerial", "Coverage due, subject to survey"),
            new WanCoverage("M22 0", WanRegion.Central, true, null, "Cellular", ConnectivityLikelihood.High),
        ]);
    }

    public async Task DisposeAsync() => await hub.DisposeAsync();

    [Fact]
    public async Task A_uprn_is_answered_with_the_coverage_of_its_sites_post_code_echoing_the_request()
    {
        var (code, response) = await SendAsync($"<sr:UPRN>{Premises}</sr:UPRN>");

        Assert.Equal("I0", code);
        var matrix = response.Descendants(Sr + "DSPWANMatrix").Single();
        Assert.Equal(
            ["Request", "CSPRegion", "CoverageAvailability", "WANTechnology", "ConnectivityLikelihood"],
            matrix.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(Premises.ToString(), matrix.Element(Sr + "Request")!.Element(Sr + "UPRN")!.Value);
        Assert.Equal(("Central", "true", "Cellular", "High"), (matrix.Element(Sr + "CSPRegion")!.Value, matrix.Element(Sr + "CoverageAvailability")!.Value, matrix.Element(Sr + "WANTechnology")!.Value, matrix.Element(Sr + "ConnectivityLikelihood")!.Value));
    }

    [Fact]
    public async Task A_partial_address_is_answered_by_its_post_codes_most_precise_entry_with_every_field()
    {
        var (code, response) = await SendAsync("<sr:PartialAddress><sr:PostCode>m225qq</sr:PostCode><sr:AddressIdentifier>Threapwood Road</sr:AddressIdentifier></sr:PartialAddress>");

        Assert.Equal("I0", code);
        var matrix = response.Descendants(Sr + "DSPWANMatrix").Single();
        var request = matrix.Element(Sr + "Request")!.Element(Sr + "PartialAddress")!;
        Assert.Equal(("M22 5QQ", "Threapwood Road"), (request.Element(Sr + "PostCode")!.Value, request.Element(Sr + "AddressIdentifier")!.Value));
        Assert.Equal(
            ["Central", "false", "2027-03-31", "Cellular", "Low", "External aerial", "Coverage due, subject to survey"],
            matrix.Elements().Skip(1).Select(e => e.Value));
    }

    [Fact]
    public async Task An_address_it_cannot_place_or_has_no_coverage_data_for_and_a_malformed_one_are_refused_each_with_its_code()
    {
        Assert.Equal(GatewayResponseCodes.Default.WanMatrixAddressUnknown, (await SendAsync("<sr:UPRN>123</sr:UPRN>")).Code);
        // A site saved before post codes were checked, with one of another shape.
        await hub.Store.Inventory.SaveSiteAsync(new Site(Uprn.Parse("124"), null, "1"));
        await using (var connection = await hub.Store.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE site SET post_code = '1234 567' WHERE uprn = 124";
            await command.ExecuteNonQueryAsync();
        }
        Assert.Equal(GatewayResponseCodes.Default.WanMatrixAddressUnknown, (await SendAsync("<sr:UPRN>124</sr:UPRN>")).Code);
        Assert.Equal(GatewayResponseCodes.Default.WanMatrixNoCoverageData, (await SendAsync("<sr:PartialAddress><sr:PostCode>SW1A 1AA</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PartialAddress>")).Code);
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, (await SendAsync("<sr:PartialAddress><sr:PostCode>M22</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier></sr:PartialAddress>")).Code);
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, (await SendAsync("<sr:PartialAddress><sr:PostCode>M22 0RR</sr:PostCode></sr:PartialAddress>")).Code);
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, (await SendAsync($"<sr:UPRN>{Premises}</sr:UPRN><sr:UPRN>{Premises}</sr:UPRN>")).Code);
        // A non-device request addressed to anyone but the DCC.
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, (await hub.SendAsync(NonDevice, Request(Supplier, NetworkOperator, hub.NextCounter(), 8, "12.1", $"<sr:UPRN>{Premises}</sr:UPRN>"))).Code);
    }

    [Theory]
    [InlineData("<sr:PostCode>M22 5QQ</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier><sr:Town>Manchester</sr:Town>", "sr:Town")]
    [InlineData("<sr:PostCode>M22 5QQ</sr:PostCode><sr:PostCode>SW1A 1AA</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier>", "sr:PostCode")]
    [InlineData("<sr:PostCode>M22 5QQ</sr:PostCode><sr:AddressIdentifier>10</sr:AddressIdentifier><x:Note xmlns:x=\"urn:elsewhere\"/>", "{urn:elsewhere}Note")]
    public async Task A_partial_address_holding_an_element_it_does_not_take_is_refused_E41_naming_it(string inner, string named)
    {
        Assert.Equal(GatewayResponseCodes.Default.InvalidRequest, (await SendAsync($"<sr:PartialAddress>{inner}</sr:PartialAddress>")).Code);

        Assert.Contains(await hub.Store.MessageLog.ReadAsync().Select(e => e.Record.Outcome).ToListAsync(), o => o.StartsWith("E41 PartialAddress holds " + named, StringComparison.Ordinal));
    }

    private Task<(string Code, XDocument Response)> SendAsync(string address) =>
        hub.SendAsync(NonDevice, Request(Supplier, Dsp, hub.NextCounter(), 8, "12.1", address));
}
