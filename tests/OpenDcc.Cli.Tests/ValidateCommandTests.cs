namespace OpenDcc.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Theory]
    [InlineData("1312345678907", "_D Merseyside & N. Wales", "SP Energy Networks")]
    [InlineData("1030006718997", "_A Eastern England", "UK Power Networks")]
    public async Task A_valid_mpan_prints_its_gsp_group_and_dno_and_exits_0(string mpan, string gspGroup, string dno)
    {
        var (code, output, error) = await cli.RunAsync("validate", "mpan", mpan);
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains(gspGroup, output, StringComparison.Ordinal);
        Assert.Contains(dno, output, StringComparison.Ordinal);
        Assert.Contains("check digit  ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_supply_number_prints_profile_class_mtc_and_llfc()
    {
        var (code, output, _) = await cli.RunAsync("validate", "mpan", "01 801 100 13 12345678 90 7");
        Assert.Equal(0, code);
        Assert.Matches(@"profile class\s+01", output);
        Assert.Matches(@"MTC\s+801", output);
        Assert.Matches(@"LLFC\s+100", output);
    }

    [Theory]
    [InlineData("mpan", "2499999999990", "check digit")]
    [InlineData("mpan", "13123456789", "13")]
    [InlineData("mprn", "12345", "6")]
    [InlineData("uprn", "1234567890123", "12")]
    [InlineData("eui64", "90-B3-D5-1F-30-01-00-0G", "'G'")]
    public async Task An_invalid_value_prints_one_line_naming_the_fault_and_exits_1(string kind, string value, string named)
    {
        var (code, output, error) = await cli.RunAsync("validate", kind, value);
        Assert.Equal(1, code);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"invalid {kind}: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_mprn_failing_the_unconfirmed_check_is_still_valid_with_a_warning()
    {
        var (code, output, _) = await cli.RunAsync("validate", "mprn", "3938424404");
        Assert.Equal(0, code);
        Assert.Contains("warning", output, StringComparison.Ordinal);
        var (goodCode, good, _) = await cli.RunAsync("validate", "mprn", "3938424403");
        Assert.Equal(0, goodCode);
        Assert.DoesNotContain("warning", good, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_uprn_and_an_eui64_print_their_canonical_forms()
    {
        Assert.Contains("100023336956", (await cli.RunAsync("validate", "uprn", "100023336956")).Output, StringComparison.Ordinal);
        var (code, output, _) = await cli.RunAsync("validate", "eui64", "90b3d51f30010000");
        Assert.Equal(0, code);
        Assert.Contains("90-B3-D5-1F-30-01-00-00", output, StringComparison.Ordinal);
    }

    public void Dispose() => cli.Dispose();
}
