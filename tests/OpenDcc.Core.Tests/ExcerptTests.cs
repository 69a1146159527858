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

    [Fact]
    public void Longer_text_keeps_its_start_and_its_end_and_says_how_much_is_left_out_between()
    {
        var limit = new string('x', Excerpt.MaxLength);
        Assert.Same(limit, Excerpt.Ends(limit));
        var quoted = "--device: EUI-64 '" + new string('z', 100_000) + "' must be eight hex pairs";
        var said = Excerpt.Ends(quoted);

        Assert.StartsWith("--device: EUI-64 'zzz", said, StringComparison.Ordinal);
        Assert.EndsWith("zzz' must be eight hex pairs", said, StringComparison.Ordinal);
        Assert.Contains($" … ({quoted.Length - Excerpt.MaxLength:N0} characters left out) … ", said, StringComparison.Ordinal);
    }

    [Property(MaxTest = 500)]
    public Property The_ends_of_well_formed_text_are_well_formed_and_no_longer_than_the_limit_and_a_note(string? text)
    {
        var whole = string.Concat((text ?? "").Select(c => c % 3 == 0 ? "😀" : c % 3 == 1 ? "a" : "é")) + new string('b', Excerpt.MaxLength / 2) + "😀";
        var said = Excerpt.Ends(whole);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var wellFormed = strict.GetString(strict.GetBytes(said)) == said;
        var note = said.Length - Excerpt.MaxLength;
        return (wellFormed && said.EndsWith("😀", StringComparison.Ordinal) && (whole.Length <= Excerpt.MaxLength ? said == whole : note is > 0 and < 50)).ToProperty();
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
