using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class MeterPointTests
{
    [Fact]
    public void A_meter_point_is_named_by_its_mpan_or_its_mprn_and_says_which()
    {
        MeterPoint electricity = Mpan.Parse("1312345678118");
        MeterPoint gas = Mprn.Parse("0123456707");

        Assert.Equal(("MPAN", "1312345678118", Mpan.Parse("1312345678118"), (Mprn?)null), (electricity.Kind, electricity.ToString(), electricity.Mpan, electricity.Mprn));
        Assert.Equal(("MPRN", "0123456707", (Mpan?)null, Mprn.Parse("0123456707")), (gas.Kind, gas.ToString(), gas.Mpan, gas.Mprn));
    }

    [Fact]
    public void Meter_points_are_equal_by_fuel_and_number_and_an_mprn_never_equals_an_mpan()
    {
        Assert.Equal(MeterPoint.FromMpan(Mpan.Parse("1312345678118")), Mpan.Parse("13 12345678 11 8"));
        Assert.Equal(MeterPoint.FromMprn(Mprn.Parse("0123456707")), Mprn.Parse(" 0123456707 "));
        // Leading zeros are an MPRN's digits: a different number, a different meter point.
        Assert.NotEqual<MeterPoint>(Mprn.Parse("0123456707"), Mprn.Parse("123456707"));
        Assert.NotEqual<MeterPoint>(Mpan.Parse("1312345678118"), Mprn.Parse("1234567810"));
    }
}
