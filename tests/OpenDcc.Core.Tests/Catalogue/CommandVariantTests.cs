using OpenDcc.Core.Catalogue;

namespace OpenDcc.Core.Tests.Catalogue;

/// <summary>Command variants and their web services (duis-and-dcc.md §1.4).</summary>
public class CommandVariantTests
{
    [Theory]
    [InlineData(1, DuisEndpoint.SendCommand)]
    [InlineData(3, DuisEndpoint.SendCommand)]
    [InlineData(5, DuisEndpoint.SendCommand)]
    [InlineData(7, DuisEndpoint.SendCommand)]
    [InlineData(4, DuisEndpoint.Transform)]
    [InlineData(2, DuisEndpoint.NonDevice)]
    [InlineData(6, DuisEndpoint.NonDevice)]
    [InlineData(8, DuisEndpoint.NonDevice)]
    public void Each_user_variant_is_posted_to_its_web_service(int number, DuisEndpoint endpoint)
    {
        Assert.True(CommandVariant.TryGet(number, out var variant));
        Assert.Equal(number, variant.Number);
        Assert.Equal(endpoint, variant.Endpoint);
    }

    [Fact]
    public void Variants_1_to_8_are_defined_once_each()
    {
        Assert.Equal(Enumerable.Range(1, 8), CommandVariant.All.Select(v => v.Number));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(-1)]
    public void Variant_9_and_numbers_outside_1_to_8_are_not_user_variants(int number)
    {
        Assert.False(CommandVariant.TryGet(number, out _));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Only_variants_5_6_and_7_take_a_signed_pre_command(int number)
    {
        Assert.True(CommandVariant.TryGet(number, out var variant));
        Assert.True(variant.TakesSignedPreCommand);
        Assert.Equal(3, CommandVariant.All.Count(v => v.TakesSignedPreCommand));
    }

    [Theory]
    [InlineData(1, false, true)]
    [InlineData(3, true, true)]
    [InlineData(4, true, false)]
    [InlineData(5, false, true)]
    [InlineData(7, true, true)]
    [InlineData(8, true, false)]
    public void Variants_respond_synchronously_asynchronously_or_both(int number, bool synchronous, bool asynchronous)
    {
        Assert.True(CommandVariant.TryGet(number, out var variant));
        Assert.Equal(synchronous, variant.RespondsSynchronously);
        Assert.Equal(asynchronous, variant.RespondsAsynchronously);
    }

    [Theory]
    [InlineData(DuisEndpoint.SendCommand, "/api/v1/serviceS")]
    [InlineData(DuisEndpoint.Transform, "/api/v1/serviceT")]
    [InlineData(DuisEndpoint.NonDevice, "/api/v1/serviceD")]
    public void Each_web_service_has_its_dcc_boxed_path(DuisEndpoint endpoint, string path)
    {
        Assert.Equal(path, CommandVariant.PathOf(endpoint));
    }

    [Fact]
    public void Path_of_an_undefined_endpoint_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CommandVariant.PathOf((DuisEndpoint)42));
    }
}
