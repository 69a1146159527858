using NodaTime;
using OpenDcc.Core.Wan;

namespace OpenDcc.Storage.Tests;

/// <summary>The SM WAN coverage data: replaced whole, found by the most precise entry covering a post code.</summary>
public abstract class WanCoverageStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly WanCoverage Area = new("M", WanRegion.North, false, null, "Long Range Radio", ConnectivityLikelihood.Low);
    private static readonly WanCoverage District = new("M22", WanRegion.Central, false, new LocalDate(2027, 3, 31), "Cellular", ConnectivityLikelihood.Medium, "External aerial", "Coverage due, subject to survey");
    private static readonly WanCoverage Sector = new("M22 0", WanRegion.Central, true, null, "Cellular", ConnectivityLikelihood.High);
    private static readonly WanCoverage PostCode = new("M22 0RR", WanRegion.Central, true, null, "Cellular", ConnectivityLikelihood.High, AdditionalInformation: "Surveyed");

    [Fact]
    public async Task A_post_code_is_answered_by_its_own_entry_else_its_sectors_districts_or_areas_and_every_field_is_kept()
    {
        await Store.WanCoverage.ReplaceAsync([Area, District, Sector, PostCode]);

        Assert.Equal(PostCode, await Store.WanCoverage.FindAsync("M22 0RR"));
        Assert.Equal(Sector, await Store.WanCoverage.FindAsync("M22 0RS"));
        Assert.Equal(District, await Store.WanCoverage.FindAsync("M22 5QQ"));
        Assert.Equal(Area, await Store.WanCoverage.FindAsync("M1 1AA"));
        // The area is the letters: MK is not M.
        Assert.Null(await Store.WanCoverage.FindAsync("MK9 1AA"));
        Assert.Equal(4, await Store.WanCoverage.CountAsync());
    }

    [Fact]
    public async Task A_file_larger_than_a_statement_is_imported_whole()
    {
        var districts = Enumerable.Range(0, 1234).Select(i => $"{(char)('A' + (i / 260 % 26))}{(char)('A' + (i / 10 % 26))}{i % 10}").ToList();

        await Store.WanCoverage.ReplaceAsync([.. districts.Select((d, i) => District with { PostCodes = d, WanTechnology = $"Cellular {i}" })]);

        Assert.Equal(1234, await Store.WanCoverage.CountAsync());
        Assert.Equal("Cellular 1233", (await Store.WanCoverage.FindAsync($"{districts[^1]} 1AA"))!.WanTechnology);
        Assert.Equal("Cellular 0", (await Store.WanCoverage.FindAsync($"{districts[0]} 1AA"))!.WanTechnology);
    }

    [Fact]
    public async Task An_import_replaces_every_entry_and_one_naming_post_codes_twice_changes_nothing()
    {
        await Store.WanCoverage.ReplaceAsync([Area, District]);
        await Store.WanCoverage.ReplaceAsync([Sector]);
        Assert.Null(await Store.WanCoverage.FindAsync("M22 5QQ"));
        Assert.Equal(Sector, await Store.WanCoverage.FindAsync("M22 0AB"));

        await Assert.ThrowsAsync<ArgumentException>(() => Store.WanCoverage.ReplaceAsync([PostCode, PostCode with { Region = WanRegion.South }]));
        Assert.Equal(1, await Store.WanCoverage.CountAsync());
    }
}

public sealed class SqliteWanCoverageStoreTests() : WanCoverageStoreTests(new SqliteEngine());

public sealed class PostgresWanCoverageStoreTests() : WanCoverageStoreTests(new PostgresEngine());
