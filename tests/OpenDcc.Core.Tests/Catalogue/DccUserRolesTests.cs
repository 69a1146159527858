using OpenDcc.Core.Catalogue;

namespace OpenDcc.Core.Tests.Catalogue;

public class DccUserRolesTests
{
    [Theory]
    [InlineData("IS", DccUserRole.ImportSupplier)]
    [InlineData("ES", DccUserRole.ExportSupplier)]
    [InlineData("GS", DccUserRole.GasSupplier)]
    [InlineData("ED", DccUserRole.ElectricityDistributor)]
    [InlineData("GT", DccUserRole.GasTransporter)]
    [InlineData("RSA", DccUserRole.RegisteredSupplierAgent)]
    [InlineData("OU", DccUserRole.OtherUser)]
    public void Each_matrix_code_parses_to_its_role_and_back(string code, DccUserRole role)
    {
        Assert.Equal(role, DccUserRoles.Parse(code));
        Assert.Equal(code, role.Code());
    }

    [Fact]
    public void All_seven_roles_round_trip_through_their_codes()
    {
        Assert.Equal(7, DccUserRoles.All.Count);
        Assert.Equal(7, DccUserRoles.All.Select(r => r.Code()).Distinct(StringComparer.Ordinal).Count());
        Assert.All(DccUserRoles.All, role => Assert.Equal(role, DccUserRoles.Parse(role.Code())));
    }

    [Theory]
    [InlineData("is", DccUserRole.ImportSupplier)]
    [InlineData("Rsa", DccUserRole.RegisteredSupplierAgent)]
    [InlineData(" ou ", DccUserRole.OtherUser)]
    public void Parse_ignores_case_and_surrounding_space(string code, DccUserRole role)
    {
        Assert.Equal(role, DccUserRoles.Parse(code));
    }

    [Fact]
    public void Unknown_code_is_rejected_listing_the_valid_codes()
    {
        var error = Assert.Throws<FormatException>(() => DccUserRoles.Parse("XX"));

        Assert.Contains("'XX'", error.Message, StringComparison.Ordinal);
        Assert.Contains("IS, ES, GS, ED, GT, RSA, OU", error.Message, StringComparison.Ordinal);
        Assert.False(DccUserRoles.TryParse("XX", out var role));
        Assert.Equal(DccUserRole.None, role);
        Assert.False(DccUserRoles.TryParse(null, out _));
    }

    [Fact]
    public void Codes_are_joined_in_matrix_order_whatever_order_the_flags_were_combined_in()
    {
        var roles = DccUserRole.OtherUser | DccUserRole.GasTransporter | DccUserRole.ImportSupplier;

        Assert.Equal("IS, GT, OU", roles.Codes());
        Assert.Equal("IS GT OU", roles.Codes(" "));
        Assert.Equal("IS, ES, GS, ED, GT, RSA, OU", DccUserRoles.All.Aggregate(DccUserRole.None, (acc, r) => acc | r).Codes());
        Assert.Equal("", DccUserRole.None.Codes());
    }

    [Fact]
    public void Code_of_a_combination_or_none_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => (DccUserRole.ImportSupplier | DccUserRole.GasSupplier).Code());
        Assert.Throws<ArgumentOutOfRangeException>(() => DccUserRole.None.Code());
    }
}
