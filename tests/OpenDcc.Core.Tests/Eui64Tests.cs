using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests;

public class Eui64Tests
{
    [Fact]
    public void Parses_duis_form()
    {
        var id = Eui64.Parse("90-B3-D5-1F-30-01-00-00");
        Assert.Equal(0x90B3D51F30010000UL, id.Value);
        Assert.Equal("90-B3-D5-1F-30-01-00-00", id.ToString());
    }
}
