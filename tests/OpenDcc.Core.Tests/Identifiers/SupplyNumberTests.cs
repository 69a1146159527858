using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class SupplyNumberTests
{
    [Fact]
    public void Twenty_one_characters_parse_into_top_line_and_core()
    {
        var number = SupplyNumber.Parse("018011001312345678907");

        Assert.Equal(1, number.ProfileClass);
        Assert.Equal(801, number.MeterTimeswitchCode);
        Assert.Equal("100", number.LineLossFactorClass);
        Assert.Equal(Mpan.Parse("1312345678907"), number.Core);
        Assert.Equal("018011001312345678907", number.ToString());
    }

    [Theory]
    [InlineData("01 801 100 13 12345678 90 7")]
    [InlineData("01 801 100\n13 12345678 90 7")]
    [InlineData("  01801100 1312345678907  ")]
    public void Printed_forms_with_whitespace_parse_the_same(string text)
    {
        Assert.Equal(SupplyNumber.Parse("018011001312345678907"), SupplyNumber.Parse(text));
    }

    [Fact]
    public void Line_loss_factor_class_is_letters_or_digits_kept_in_upper_case()
    {
        var number = SupplyNumber.Parse("03 845 a1z 1030006718997");

        Assert.Equal("A1Z", number.LineLossFactorClass);
        Assert.Equal("03845A1Z1030006718997", number.ToString());
    }

    [Theory]
    [InlineData("00")]
    [InlineData("08")]
    [InlineData("09")]
    [InlineData("99")]
    public void Profile_class_outside_00_to_08_is_not_rejected_because_mhhs_changes_the_top_line(string profileClass)
    {
        var number = SupplyNumber.Parse(profileClass + "8011001312345678907");

        Assert.Equal(int.Parse(profileClass, System.Globalization.CultureInfo.InvariantCulture), number.ProfileClass);
    }

    [Theory]
    [InlineData("0A8011001312345678907", "profile class '0A'")]
    [InlineData("018X11001312345678907", "meter timeswitch code '8X1'")]
    [InlineData("018011-01312345678907", "line loss factor class '1-0'")]
    [InlineData("018011001312345678906", "wrong check digit")]
    [InlineData("018011000512345678906", "distributor ID 05")]
    [InlineData("0180110013123456789070", "21 characters")]
    [InlineData("1312345678907", "MPAN core alone")]
    [InlineData("", "empty")]
    public void Malformed_supply_number_is_rejected_naming_the_part(string text, string expected)
    {
        Assert.False(SupplyNumber.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Property]
    public Property Parse_of_ToString_is_the_same_supply_number() =>
        Prop.ForAll(IdentifierGenerators.SupplyNumberText.ToArbitrary(), text =>
        {
            var number = SupplyNumber.Parse(text);
            return number.ToString() == text && SupplyNumber.Parse(number.ToString()) == number;
        });

    [Property]
    public Property Spaced_printed_form_parses_to_the_same_supply_number() =>
        Prop.ForAll(IdentifierGenerators.SupplyNumberText.ToArbitrary(), text =>
        {
            var printed = $"{text[..2]} {text[2..5]} {text[5..8]} {text[8..10]} {text[10..18]} {text[18..20]} {text[20]}";
            return SupplyNumber.Parse(printed) == SupplyNumber.Parse(text);
        });
}
