using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class GspGroupTests
{
    [Fact]
    public void There_are_fourteen_groups_without_i_or_o()
    {
        Assert.Equal("ABCDEFGHJKLMNP", new string(GspGroup.All.Select(g => g.Letter).ToArray()));
    }

    [Theory]
    [InlineData("_P", "North Scotland")]
    [InlineData("_d", "Merseyside & N. Wales")]
    [InlineData(" _A ", "Eastern England")]
    public void Group_parses_and_names_its_area(string text, string area)
    {
        var group = GspGroup.Parse(text);

        Assert.Equal(area, group.AreaName);
        Assert.Equal(text.Trim().ToUpperInvariant(), group.ToString());
    }

    [Theory]
    [InlineData("_I", "letters I and O are not used")]
    [InlineData("_O", "letters I and O are not used")]
    [InlineData("_Q", "_A to _P")]
    [InlineData("A", "underscore and a letter")]
    [InlineData("_AB", "underscore and a letter")]
    [InlineData("_1", "underscore and a letter")]
    [InlineData("", "empty")]
    public void Malformed_group_is_rejected_naming_the_fault(string text, string expected)
    {
        Assert.False(GspGroup.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_group_round_trips_through_its_text()
    {
        Assert.All(GspGroup.All, g => Assert.Equal(g, GspGroup.Parse(g.ToString())));
    }
}
