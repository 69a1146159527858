using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Tests.Inventory;

public class ApprovedDeviceModelsTests
{
    [Fact]
    public void A_list_read_from_csv_approves_its_models_whatever_their_case_and_nothing_else()
    {
        var list = ApprovedDeviceModels.Parse(["manufacturer,model", "AB01,010A030B", "", " \"CD02\" , 00000001 "]);

        Assert.True(list.IsRestricted);
        Assert.True(list.IsApproved("ab01", "010a030b"));
        Assert.True(list.IsApproved("CD02", "00000001"));
        Assert.False(list.IsApproved("AB01", "00000001"));
    }

    [Fact]
    public void Without_a_list_every_model_is_accepted()
    {
        Assert.False(ApprovedDeviceModels.Any.IsRestricted);
        Assert.True(ApprovedDeviceModels.Any.IsApproved("ZZ99", "anything"));
    }

    [Theory]
    [InlineData("model,manufacturer", "line 1: the header must be manufacturer,model")]
    [InlineData("manufacturer,model\nAB01", "line 2: expected a manufacturer and a model, got 'AB01'")]
    public void A_malformed_list_is_refused_naming_the_line(string csv, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ApprovedDeviceModels.Parse(csv.Split('\n')));

        Assert.Equal(expected, error.Message);
    }
}
