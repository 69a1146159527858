using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class UprnTests
{
    [Theory]
    [InlineData("1", 1L)]
    [InlineData("100023336956", 100023336956L)]
    [InlineData("999999999999", 999999999999L)]
    public void One_to_twelve_digits_parse(string text, long expected)
    {
        var uprn = Uprn.Parse(text);

        Assert.Equal(expected, uprn.Value);
        Assert.Equal(text, uprn.ToString());
    }

    [Fact]
    public void Leading_zeros_are_accepted_and_not_written_back()
    {
        var uprn = Uprn.Parse("000012345678");

        Assert.Equal(new Uprn(12345678), uprn);
        Assert.Equal("12345678", uprn.ToString());
    }

    [Theory]
    [InlineData("1000233369560", "at most 12 digits, not 13")]
    [InlineData("0000000000001", "at most 12 digits, not 13")]
    [InlineData("0", "zero")]
    [InlineData("000", "zero")]
    [InlineData("-5", "non-digit character '-'")]
    [InlineData("12 34", "non-digit character ' '")]
    [InlineData("", "empty")]
    public void Malformed_uprn_is_rejected_naming_the_fault(string text, string expected)
    {
        Assert.False(Uprn.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1_000_000_000_000L)]
    public void Constructor_rejects_values_outside_1_to_twelve_nines(long value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Uprn(value));
    }

    [Property]
    public Property Parse_of_ToString_is_the_same_uprn() =>
        Prop.ForAll(IdentifierGenerators.UprnValue.ToArbitrary(), value =>
        {
            var uprn = new Uprn(value);
            return Uprn.Parse(uprn.ToString()) == uprn && uprn.ToString() == value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
}
