using System.Globalization;
using FsCheck;
using FsCheck.Xunit;

namespace OpenDcc.Core.Tests;

public class FreeTextTests
{
    [Theory]
    [InlineData("  Bright Energy Ltd ", "Bright Energy Ltd")]
    [InlineData("Ynni Cymru Cyf — Énergie", "Ynni Cymru Cyf — Énergie")]
    public void Text_is_kept_trimmed(string value, string kept) => Assert.Equal(kept, FreeText.Checked(value, "a name", 30, "name"));

    [Theory]
    [InlineData("", "a name is 1 to 30 characters, not ''")]
    [InlineData("   ", "a name is 1 to 30 characters, not ''")]
    [InlineData("0123456789012345678901234567890", "a name is 1 to 30 characters, not '0123456789012345678901234567890'")]
    [InlineData("two\nlines", "a name holds a control character (a line break, a tab, an escape, a direction mark): 'two[U+000A]lines'")]
    [InlineData("a\ttab", "a name holds a control character")]
    [InlineData("\u001b[2Jcleared", "a name holds a control character")]
    [InlineData("c1\u0085control", "a name holds a control character")]
    [InlineData("Bright\u2028Energy", "a name holds a control character (a line break, a tab, an escape, a direction mark): 'Bright[U+2028]Energy'")]
    [InlineData("Bright \u202Edtl ygrenE", "a name holds a control character (a line break, a tab, an escape, a direction mark): 'Bright [U+202E]dtl ygrenE'")]
    [InlineData("\u2066Bright\u2069", "a name holds a control character")]
    [InlineData("Bright\u200FEnergy", "a name holds a control character")]
    [InlineData("long \u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b\u001b", "a name is 1 to 30 characters, not 'long [U+001B][U+001B]")]
    public void Empty_long_or_control_text_is_refused_saying_why(string value, string fault)
    {
        var refused = Assert.Throws<ArgumentException>(() => FreeText.Checked(value, "a name", 30, "name"));
        Assert.StartsWith(fault, refused.Message, StringComparison.Ordinal);
        Assert.Equal("name", refused.ParamName);
    }

    [Property]
    public bool Text_is_accepted_exactly_when_trimmed_it_is_1_to_the_limit_long_and_has_no_control_or_direction_character(NonNull<string> value)
    {
        var trimmed = value.Get.Trim();
        var acceptable = trimmed.Length is > 0 and <= 30 && !trimmed.Any(c => char.IsControl(c) || IsLineOrDirectionMark(c));
        try
        {
            return FreeText.Checked(value.Get, "a name", 30, "name") == trimmed && acceptable;
        }
        catch (ArgumentException)
        {
            return !acceptable;
        }
    }

    /// <summary>Unicode's bidirectional control characters (UAX #9, table 1), all of them.</summary>
    private const string BidirectionalControls = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";

    private static bool IsLineOrDirectionMark(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator || BidirectionalControls.Contains(c, StringComparison.Ordinal);

    [Fact]
    public void Every_bidirectional_control_is_refused_and_a_zero_width_joiner_is_not()
    {
        foreach (var c in BidirectionalControls)
        {
            Assert.NotNull(FreeText.FaultOf($"a{c}b", "a name", 30));
        }
        Assert.Null(FreeText.FaultOf("Zero\u200dJoiner", "a name", 30));
    }
}
