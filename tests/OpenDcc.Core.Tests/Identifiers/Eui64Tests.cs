using FsCheck;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class Eui64Tests
{
    [Fact]
    public void Parses_duis_form()
    {
        var id = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        Assert.Equal(0x90B3D51F30010000UL, id.Value);
        Assert.Equal("90-B3-D5-1F-30-01-00-00", id.ToString());
    }

    [Property]
    public bool Formatted_value_parses_back_to_the_same_value(DoNotSize<ulong> value)
    {
        var id = new Eui64(value.Item);
        return Eui64.Parse(id.ToString()).Value == value.Item
            && Eui64.Parse(id.ToCompactString()).Value == value.Item;
    }

    [Property]
    public bool Parse_of_ToString_is_the_same_identifier(DoNotSize<ulong> value)
    {
        var id = new Eui64(value.Item);
        return Eui64.Parse(id.ToString()) == id;
    }
}
