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
    [InlineData("two\nlines", "a name holds a control character (a line break, a tab, an escape): 'two lines'")]
    [InlineData("a\ttab", "a name holds a control character")]
    [InlineData("\u001b[2Jcleared", "a name holds a control character")]
    [InlineData("c1\u0085control", "a name holds a control character")]
    public void Empty_long_or_control_text_is_refused_saying_why(string value, string fault)
    {
        var refused = Assert.Throws<ArgumentException>(() => FreeText.Checked(value, "a name", 30, "name"));
        Assert.StartsWith(fault, refused.Message, StringComparison.Ordinal);
        Assert.Equal("name", refused.ParamName);
    }

    [Property]
    public bool Text_is_accepted_exactly_when_trimmed_it_is_1_to_the_limit_long_and_has_no_control_character(NonNull<string> value)
    {
        var trimmed = value.Get.Trim();
        var acceptable = trimmed.Length is > 0 and <= 30 && !trimmed.Any(char.IsControl);
        try
        {
            return FreeText.Checked(value.Get, "a name", 30, "name") == trimmed && acceptable;
        }
        catch (ArgumentException)
        {
            return !acceptable;
        }
    }
}
