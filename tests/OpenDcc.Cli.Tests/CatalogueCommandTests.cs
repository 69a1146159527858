namespace OpenDcc.Cli.Tests;

public sealed class CatalogueCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Theory]
    [InlineData(null, 129)]
    [InlineData("IS", 111)]
    [InlineData("gs", 83)]
    [InlineData("ES", 16)]
    [InlineData("RSA", 18)]
    public async Task Prints_the_variants_a_role_may_send(string? role, int count)
    {
        var (code, output, _) = role is null ? await cli.RunAsync("catalogue") : await cli.RunAsync("catalogue", "--role", role);
        Assert.Equal(0, code);
        Assert.Contains($"{count} service reference variants", output, StringComparison.Ordinal);
        var rows = output.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+\d+\.\d+(\.\d+)?\s"));
        Assert.Equal(count, rows);
    }

    [Fact]
    public async Task Shows_the_row_of_a_variant_with_its_flags_and_roles()
    {
        var (_, output, _) = await cli.RunAsync("catalogue");
        var row = Assert.Single(output.Split('\n'), l => l.Contains("Read Instantaneous Import Registers", StringComparison.Ordinal));
        Assert.Contains("4.1.1", row, StringComparison.Ordinal);
        Assert.Contains("IS, GS, ED, GT", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_role_is_refused_naming_the_valid_ones()
    {
        var (code, _, error) = await cli.RunAsync("catalogue", "--role", "XX");
        Assert.Equal(1, code);
        Assert.StartsWith("opendcc: --role: ", error, StringComparison.Ordinal);
        Assert.Contains("'XX'", error, StringComparison.Ordinal);
        Assert.Contains("IS, ES, GS, ED, GT, RSA, OU", error, StringComparison.Ordinal);
    }

    public void Dispose() => cli.Dispose();
}
