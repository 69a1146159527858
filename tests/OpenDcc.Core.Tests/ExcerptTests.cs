namespace OpenDcc.Core.Tests;

public class ExcerptTests
{
    [Fact]
    public void Text_up_to_the_limit_is_kept_whole_and_longer_text_keeps_its_start_and_says_its_length()
    {
        var limit = new string('x', Excerpt.MaxLength);
        Assert.Same(limit, Excerpt.Of(limit));
        Assert.Equal("", Excerpt.Of(""));
        Assert.Equal(limit + "… (1,001 characters in all)", Excerpt.Of(limit + "y"));
        Assert.Equal(limit + "… (3,000,000 characters in all)", Excerpt.Of(new string('x', 3_000_000)));
    }
}
