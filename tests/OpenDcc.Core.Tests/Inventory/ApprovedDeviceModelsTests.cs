using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Tests.Inventory;

public class ApprovedDeviceModelsTests
{
    [Fact]
    public void A_list_read_from_csv_holds_its_models_in_upper_case_whatever_their_quotes_and_spaces()
    {
        var list = ApprovedDeviceModels.Parse(new StringReader("manufacturer,model\nab01,010a030b\n\n \"CD02\" , 00000001 \n"));

        Assert.Equal([new ApprovedModel("AB01", "010A030B"), new ApprovedModel("CD02", "00000001")], list);
        Assert.Equal("AB01/010A030B", list[0].ToString());
    }

    [Theory]
    [InlineData("model,manufacturer", "line 1: the header must be manufacturer,model")]
    [InlineData("", "is empty: the first line must be the header manufacturer,model")]
    [InlineData("\n \n", "is empty: the first line must be the header manufacturer,model")]
    [InlineData("manufacturer,model\nAB01", "line 2: expected a manufacturer and a model, got 'AB01'")]
    [InlineData("manufacturer,model\nAB01,0123456789012345678901234567890", "line 2: a device model is 1 to 30 characters, not '0123456789012345678901234567890' (Parameter 'model')")]
    public void A_malformed_list_is_refused_naming_the_line(string csv, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ApprovedDeviceModels.Parse(new StringReader(csv)));

        Assert.Equal(expected, error.Message);
    }
}
