using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class DistributorTests
{
    [Theory]
    [InlineData(10, "_A", "Eastern England", "EELC", "UK Power Networks")]
    [InlineData(11, "_B", "East Midlands", "EMEB", "National Grid Electricity Distribution")]
    [InlineData(12, "_C", "London", "LOND", "UK Power Networks")]
    [InlineData(13, "_D", "Merseyside & N. Wales", "MANW", "SP Energy Networks")]
    [InlineData(14, "_E", "West Midlands", "MIDE", "National Grid Electricity Distribution")]
    [InlineData(15, "_F", "North East England", "NEEB", "Northern Powergrid")]
    [InlineData(16, "_G", "North West England", "NORW", "Electricity North West")]
    [InlineData(17, "_P", "North Scotland", "HYDE", "Scottish and Southern Electricity Networks")]
    [InlineData(18, "_N", "South Scotland", "SPOW", "SP Energy Networks")]
    [InlineData(19, "_J", "South East England", "SEEB", "UK Power Networks")]
    [InlineData(20, "_H", "Southern England", "SOUT", "Scottish and Southern Electricity Networks")]
    [InlineData(21, "_K", "South Wales", "SWAE", "National Grid Electricity Distribution")]
    [InlineData(22, "_L", "South West England", "SWEB", "National Grid Electricity Distribution")]
    [InlineData(23, "_M", "Yorkshire", "YELG", "Northern Powergrid")]
    public void Dno_distributor_maps_to_its_gsp_group_area_and_operator(int id, string gspGroup, string area, string mpasId, string operatorName)
    {
        var distributor = Distributor.FromId(id);

        Assert.Equal(GspGroup.Parse(gspGroup), distributor.GspGroup);
        Assert.Equal(area, distributor.AreaName);
        Assert.Equal(mpasId, distributor.MpasId);
        Assert.Equal(operatorName, distributor.OperatorName);
        Assert.False(distributor.IsIdno);
        Assert.Equal(distributor, Distributor.ForGspGroup(GspGroup.Parse(gspGroup)));
    }

    [Theory]
    [InlineData(24, "IPNL", "Envoy / IPNL")]
    [InlineData(25, "LENG", "ESP")]
    [InlineData(26, "GUCL", "Last Mile")]
    [InlineData(27, "ETCL", "GTC")]
    [InlineData(28, "EDFI", "UKPN IDNO")]
    [InlineData(29, "HARL", "Harlaxton")]
    [InlineData(30, "PENL", "Leep")]
    [InlineData(31, "UKPD", "UK Power Distribution")]
    [InlineData(32, "UDNL", "Energy Assets")]
    [InlineData(33, "GGEN", "Eclipse")]
    [InlineData(34, "MPDL", "Murphy")]
    [InlineData(35, "FEAL", "Fulcrum")]
    [InlineData(36, "VATT", "Vattenfall")]
    public void Idno_distributor_has_no_gsp_group_of_its_own(int id, string mpasId, string operatorName)
    {
        var distributor = Distributor.FromId(id);

        Assert.True(distributor.IsIdno);
        Assert.Null(distributor.GspGroup);
        Assert.Null(distributor.AreaName);
        Assert.Equal(mpasId, distributor.MpasId);
        Assert.Equal(operatorName, distributor.OperatorName);
    }

    [Fact]
    public void Table_holds_ids_10_to_36_and_each_gsp_group_once()
    {
        Assert.Equal(Enumerable.Range(10, 27), Distributor.All.Select(d => d.Id));
        Assert.Equal(
            GspGroup.All.OrderBy(g => g),
            Distributor.All.Where(d => !d.IsIdno).Select(d => d.GspGroup!.Value).OrderBy(g => g));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(37)]
    [InlineData(0)]
    public void Unknown_id_is_not_found(int id)
    {
        Assert.False(Distributor.TryFromId(id, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributor.FromId(id));
    }

    [Fact]
    public void Distributor_reads_as_id_and_operator()
    {
        Assert.Equal("13 SP Energy Networks", Distributor.FromId(13).ToString());
    }
}
