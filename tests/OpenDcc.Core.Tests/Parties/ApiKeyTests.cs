using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.Tests.Parties;

public sealed class ApiKeyTests
{
    private static readonly Eui64 User = Eui64.Parse("90-B3-D5-1F-30-02-00-00");
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 28, 12, 0);

    [Fact]
    public void An_issued_token_is_well_formed_names_its_key_and_is_never_issued_twice()
    {
        var issued = Enumerable.Range(0, 200).Select(_ => ApiKey.Issue(User, Now)).ToList();

        Assert.All(issued, i => Assert.True(ApiKey.IsWellFormed(i.Token), i.Token));
        Assert.All(issued, i => Assert.StartsWith($"odcc_{i.Key.Id}_", i.Token, StringComparison.Ordinal));
        Assert.All(issued, i => Assert.Equal(new ApiKey(i.Key.Id, User, Now), i.Key));
        Assert.Equal(issued.Count, issued.Select(i => i.Token).Distinct().Count());
        Assert.Equal(issued.Count, issued.Select(i => ApiKey.HashOf(i.Token)).Distinct().Count());
    }

    [Fact]
    public void The_hash_is_the_sha256_of_the_token_and_does_not_contain_it()
    {
        var (_, token) = ApiKey.Issue(User, Now);

        var hash = ApiKey.HashOf(token);

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), hash);
        Assert.DoesNotContain(token[18..], hash, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("odcc_")]
    [InlineData("odcc_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("odcc_0123456789AB_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("xdcc_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("odcc_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    public void Text_that_is_not_a_token_is_not_well_formed(string text) => Assert.False(ApiKey.IsWellFormed(text));
}
