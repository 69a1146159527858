using OpenDcc.Core.Wan;

namespace OpenDcc.Cli.Tests;

public sealed class WanCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public async Task Coverage_is_imported_replacing_what_was_there_and_shown_for_a_post_code_by_its_most_precise_entry()
    {
        await cli.StartStoreAsync();
        Assert.Equal(0, (await cli.RunWithDataAsync("wan", "coverage", "import", WriteCsv("IV,North,yes,,Long Range Radio,Medium,,"))).ExitCode);

        var imported = await cli.RunWithDataAsync("wan", "coverage", "import", WriteCsv("M22,Central,no,2027-03-31,Cellular,Low,External aerial,Due in March", "m22 0,central,yes,,Cellular,High,,"));

        Assert.Equal((0, ""), (imported.ExitCode, imported.Error));
        Assert.Contains("imported 2 coverage entries from", imported.Output, StringComparison.Ordinal);
        Assert.Contains("(replacing 1 entry)", imported.Output, StringComparison.Ordinal);
        Assert.Equal("M22 0: Central, covered, Cellular, connectivity High", (await cli.RunWithDataAsync("wan", "coverage", "show", "m220rr")).Output.Trim());
        Assert.Equal("M22: Central, not covered (expected 2027-03-31), Cellular, connectivity Low; needs External aerial; Due in March", (await cli.RunWithDataAsync("wan", "coverage", "show", "M22 5QQ")).Output.Trim());
        Assert.StartsWith("no coverage entry covers IV1 1AA (12.1 answers E120102)", (await cli.RunWithDataAsync("wan", "coverage", "show", "IV1 1AA")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_coverage_file_is_refused_naming_the_line_and_field_and_imports_nothing()
    {
        await cli.StartStoreAsync();
        Assert.Equal(0, (await cli.RunWithDataAsync("wan", "coverage", "import", WriteCsv("M22,Central,yes,,Cellular,High,,"))).ExitCode);

        var (code, _, error) = await cli.RunWithDataAsync("wan", "coverage", "import", WriteCsv("IV,North,yes,,Long Range Radio,Medium,,", "M1,Middle,yes,,Cellular,High,,"));

        Assert.Equal(1, code);
        Assert.Contains("line 3: region 'Middle' is not one of North, Central, South", error, StringComparison.Ordinal);
        Assert.StartsWith("M22: Central, covered", (await cli.RunWithDataAsync("wan", "coverage", "show", "M22 0RR")).Output, StringComparison.Ordinal);
        Assert.StartsWith("opendcc: post-code: 'M22' is not a whole post code", (await cli.RunWithDataAsync("wan", "coverage", "show", "M22")).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_coverage_file_that_is_not_utf8_is_refused_and_imports_nothing()
    {
        await cli.StartStoreAsync();
        var path = Path.Combine(cli.DataDirectory, "latin1.csv");
        File.WriteAllBytes(path, [.. System.Text.Encoding.UTF8.GetBytes(WanCoverage.CsvHeader + "\nM22,Central,yes,,Cellular,High,,Caf"), 0xE9, (byte)'\n']);

        var (code, _, error) = await cli.RunWithDataAsync("wan", "coverage", "import", path);

        Assert.Equal(1, code);
        Assert.Contains("latin1.csv is not UTF-8 text", error, StringComparison.Ordinal);
    }

    private string WriteCsv(params string[] lines)
    {
        var path = Path.Combine(cli.DataDirectory, $"coverage-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, [WanCoverage.CsvHeader, .. lines]);
        return path;
    }
}
