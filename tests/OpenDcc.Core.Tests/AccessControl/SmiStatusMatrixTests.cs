using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Tests.AccessControl;

public class SmiStatusMatrixTests
{
    [Fact]
    public void The_shipped_matrix_keeps_requests_from_devices_out_of_service_and_lets_commissioning_reach_an_installed_device_or_resynchronise_a_commissioned_one()
    {
        var matrix = SmiStatusMatrix.Default;

        Assert.Equal([SmiStatus.InstalledNotCommissioned, SmiStatus.Commissioned, SmiStatus.Recovered], matrix.StatusesFor("4.1.1").Statuses);
        Assert.Equal([SmiStatus.InstalledNotCommissioned, SmiStatus.Commissioned], matrix.StatusesFor("8.1.1").Statuses);
        Assert.True(matrix.Allows("8.14.1", SmiStatus.Pending));
        Assert.False(matrix.Allows("8.14.1", SmiStatus.Commissioned));
        Assert.False(matrix.Allows("8.3", SmiStatus.Decommissioned));
        Assert.False(matrix.Allows("8.3", SmiStatus.Pending));
        Assert.All(SmiStatuses.All, s => Assert.Equal(s is not (SmiStatus.Decommissioned or SmiStatus.Withdrawn), matrix.Allows("8.4", s)));
    }

    [Theory]
    [InlineData("*\tCommissioned\n4.1.1\tSleeping", "line 2: unknown SMI status 'Sleeping'")]
    [InlineData("*\tCommissioned\n99.9\tCommissioned", "line 2: '99.9' is not a DUIS service reference variant")]
    [InlineData("*\tCommissioned\n4.1.1\tPending\n4.1.1\tCommissioned", "line 3: a second row for 4.1.1")]
    [InlineData("# no default\n4.1.1\tCommissioned", "the matrix has no * row (the statuses for every other SRV)")]
    [InlineData("*\tCommissioned\n4.1.1 Commissioned", "line 2: expected an SRV, a tab and its statuses, got '4.1.1 Commissioned'")]
    public void A_malformed_matrix_is_refused_naming_the_line(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => SmiStatusMatrix.Parse(text.Split('\n')));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Statuses_are_read_as_the_inventory_reads_them_and_comments_and_blank_lines_are_skipped()
    {
        var matrix = SmiStatusMatrix.Parse(["# a comment", "", "*\tinstalled-not-commissioned, Commissioned", "8.3\t"]);

        Assert.Equal([SmiStatus.InstalledNotCommissioned, SmiStatus.Commissioned], matrix.StatusesFor("4.1.1").Statuses);
        Assert.Empty(matrix.StatusesFor("8.3").Statuses);
    }
}
