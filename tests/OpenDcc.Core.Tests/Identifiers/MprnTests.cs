using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class MprnTests
{
    [Theory]
    [InlineData("3938424403")]
    [InlineData("1234567810")]
    public void Mprn_with_community_check_digits_passes_the_soft_check(string text)
    {
        var mprn = Mprn.Parse(text);

        Assert.True(mprn.HasValidCheckDigits);
        Assert.Null(mprn.CheckDigitWarning);
        Assert.Equal(text, mprn.ToString());
    }

    [Fact]
    public void Mprn_failing_the_check_digits_still_parses_with_a_warning()
    {
        var mprn = Mprn.Parse("1234567890");

        Assert.False(mprn.HasValidCheckDigits);
        Assert.NotNull(mprn.CheckDigitWarning);
        Assert.Contains("ends in 90", mprn.CheckDigitWarning, StringComparison.Ordinal);
        Assert.Contains("gives 10", mprn.CheckDigitWarning, StringComparison.Ordinal);
        Assert.Contains("warning, not a rejection", mprn.CheckDigitWarning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("39384244", 3)]
    [InlineData("12345678", 10)]
    public void Check_digits_are_the_position_weighted_sum_mod_11(string body, int expected)
    {
        Assert.Equal(expected, Mprn.ComputeCheckDigits(body));
    }

    [Theory]
    [InlineData("7412345678", true)]
    [InlineData("7712345678", true)]
    [InlineData("7312345678", false)]
    [InlineData("7812345678", false)]
    [InlineData("3938424403", false)]
    public void Mprn_starting_74_to_77_belongs_to_an_independent_gas_transporter(string text, bool expected)
    {
        Assert.Equal(expected, Mprn.Parse(text).IsIndependentGasTransporter);
    }

    [Theory]
    [InlineData("123456")]
    [InlineData("0123456789")]
    [InlineData(" 3938424403 ")]
    public void Six_to_ten_digits_parse_keeping_leading_zeros(string text)
    {
        Assert.Equal(text.Trim(), Mprn.Parse(text).ToString());
    }

    [Theory]
    [InlineData("12345", "6 to 10 digits, not 5")]
    [InlineData("12345678901", "6 to 10 digits, not 11")]
    [InlineData("39384 24403", "non-digit character ' '")]
    [InlineData("393842440A", "non-digit character 'A'")]
    [InlineData("", "empty")]
    public void Malformed_mprn_is_rejected_naming_the_fault(string text, string expected)
    {
        Assert.False(Mprn.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Mprns_compare_by_number_then_by_length()
    {
        Assert.True(Mprn.Parse("999999").CompareTo(Mprn.Parse("1000000")) < 0);
        Assert.True(Mprn.Parse("0123456").CompareTo(Mprn.Parse("123456")) > 0);
        Assert.NotEqual(Mprn.Parse("0123456"), Mprn.Parse("123456"));
    }

    [Property]
    public Property Parse_of_ToString_is_the_same_mprn() =>
        Prop.ForAll(IdentifierGenerators.MprnText.ToArbitrary(), text =>
        {
            var mprn = Mprn.Parse(text);
            return mprn.ToString() == text && Mprn.Parse(mprn.ToString()) == mprn;
        });

    [Property]
    public Property Body_with_its_computed_check_digits_passes_the_soft_check() =>
        Prop.ForAll(Gen.Choose(4, 8).SelectMany(IdentifierGenerators.Digits).ToArbitrary(), body =>
        {
            var check = Mprn.ComputeCheckDigits(body).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
            return Mprn.Parse(body + check).HasValidCheckDigits;
        });
}
