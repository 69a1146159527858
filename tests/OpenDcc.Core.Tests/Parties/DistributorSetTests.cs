using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.Tests.Parties;

public sealed class DistributorSetTests
{
    [Property(MaxTest = 300)]
    public Property Codes_read_back_as_the_same_set_holding_exactly_the_distributors_given() =>
        Prop.ForAll(Gen.SubListOf(Distributor.All.ToArray()).ToArbitrary(), distributors =>
        {
            var set = DistributorSet.Of(distributors);
            return DistributorSet.Parse(set.ToCodes()) == set
                && set.Count == distributors.Distinct().Count()
                && Distributor.All.All(d => set.Contains(d) == distributors.Contains(d))
                && set.Distributors.Select(d => d.Id).SequenceEqual(distributors.Select(d => d.Id).Distinct().Order());
        });

    [Fact]
    public void Commas_and_spaces_both_separate_ids()
    {
        Assert.Equal(DistributorSet.Of(Distributor.FromId(13), Distributor.FromId(18)), DistributorSet.Parse("18, 13"));
        Assert.True(DistributorSet.Parse("").IsEmpty);
    }

    [Theory]
    [InlineData("13 9")]
    [InlineData("13 x")]
    [InlineData("99")]
    public void An_unknown_distributor_id_is_refused_naming_it(string codes)
    {
        var error = Assert.Throws<FormatException>(() => DistributorSet.Parse(codes));

        Assert.Contains($"'{codes.Split(' ')[^1]}'", error.Message, StringComparison.Ordinal);
    }
}
