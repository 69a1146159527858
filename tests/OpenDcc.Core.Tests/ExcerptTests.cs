using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

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

    [Fact]
    public void A_cut_that_would_fall_inside_a_surrogate_pair_falls_before_it()
    {
        var text = new string('x', Excerpt.MaxLength - 1) + "😀" + "tail";
        var excerpt = Excerpt.Of(text);

        Assert.StartsWith(new string('x', Excerpt.MaxLength - 1) + "…", excerpt, StringComparison.Ordinal);
        // Strict UTF-8 (as PostgreSQL's driver encodes) takes it: no half character is left.
        _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(excerpt);
    }

    [Property(MaxTest = 500)]
    public Property The_start_of_well_formed_text_is_well_formed_and_at_most_one_code_unit_short(string? text, byte limit)
    {
        // Text of whole characters: letters, and emoji outside the Basic Multilingual Plane.
        var whole = string.Concat((text ?? "").Select(c => c % 3 == 0 ? "😀" : c % 3 == 1 ? "a" : "é"));
        var start = Excerpt.Start(whole, limit);
        var wellFormed = start.EnumerateRunes().Sum(r => r.Utf16SequenceLength) == start.Length
            && !(start.Length > 0 && char.IsHighSurrogate(start[^1]));
        return (wellFormed && whole.StartsWith(start, StringComparison.Ordinal) && start.Length >= Math.Min(whole.Length, limit) - 1 && start.Length <= limit).ToProperty();
    }
}
