using OpenDcc.Core.Catalogue;

namespace OpenDcc.Core.Tests.Catalogue;

/// <summary>Response codes whose meanings are known (duis-and-dcc.md §1.5).</summary>
public class ResponseCodeTests
{
    [Theory]
    [InlineData("I0", ResponseCodeKind.Informational)]
    [InlineData("I99", ResponseCodeKind.Informational)]
    [InlineData("E1", ResponseCodeKind.Error)]
    [InlineData("E2", ResponseCodeKind.Error)]
    [InlineData("E3", ResponseCodeKind.Error)]
    [InlineData("E4", ResponseCodeKind.Error)]
    [InlineData("E5", ResponseCodeKind.Error)]
    [InlineData("E11", ResponseCodeKind.Error)]
    [InlineData("E12", ResponseCodeKind.Error)]
    [InlineData("E13", ResponseCodeKind.Error)]
    [InlineData("E17", ResponseCodeKind.Error)]
    [InlineData("E19", ResponseCodeKind.Error)]
    [InlineData("E20", ResponseCodeKind.Error)]
    [InlineData("E21", ResponseCodeKind.Error)]
    [InlineData("E30", ResponseCodeKind.Error)]
    public void Known_codes_include_each_code_with_a_confirmed_meaning(string code, ResponseCodeKind kind)
    {
        var known = Assert.Single(ResponseCode.Known, c => c.Code == code);

        Assert.Equal(kind, known.Kind);
        Assert.False(string.IsNullOrWhiteSpace(known.Meaning));
        Assert.Equal(code, known.ToString());
    }

    [Fact]
    public void Exactly_the_fifteen_confirmed_codes_are_known()
    {
        Assert.Equal(15, ResponseCode.Known.Count);
        Assert.Equal(15, ResponseCode.Known.Select(c => c.Code).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Named_codes_are_the_ones_duis_uses_for_them()
    {
        Assert.Equal("I0", ResponseCode.Success.Code);
        Assert.Equal("I99", ResponseCode.Acknowledged.Code);
        Assert.Equal("E2", ResponseCode.RoleNotPermitted.Code);
        Assert.Equal("E3", ResponseCode.UserStatusNotPermitted.Code);
        Assert.Equal("E12", ResponseCode.CommandVariantNotApplicable.Code);
        Assert.Equal("E13", ResponseCode.RequestTypeNotValidForUrl.Code);
        Assert.Equal("E19", ResponseCode.DeviceDoesNotExist.Code);
        Assert.Equal("E30", ResponseCode.FutureDatedTimeout.Code);
    }

    [Theory]
    [InlineData("W050201", ResponseCodeKind.Warning)]
    [InlineData("E120201", ResponseCodeKind.Error)]
    [InlineData("E65", ResponseCodeKind.Error)]
    public void Kind_follows_the_first_letter_of_codes_outside_the_known_list(string code, ResponseCodeKind kind)
    {
        Assert.Equal(kind, new ResponseCode(code, "unconfirmed").Kind);
    }
}
