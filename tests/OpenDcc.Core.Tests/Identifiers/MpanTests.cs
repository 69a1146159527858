using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class MpanTests
{
    [Theory]
    [InlineData("1312345678907", 13, "1234567890", 7)]
    [InlineData("1030006718997", 10, "3000671899", 7)]
    [InlineData("2000012345672", 20, "0001234567", 2)]
    public void Valid_core_parses_into_its_parts(string text, int distributorId, string uniqueIdentifier, int checkDigit)
    {
        var mpan = Mpan.Parse(text);

        Assert.Equal(distributorId, mpan.DistributorId);
        Assert.Equal(distributorId, mpan.Distributor.Id);
        Assert.Equal(uniqueIdentifier, mpan.UniqueIdentifier);
        Assert.Equal(checkDigit, mpan.CheckDigit);
        Assert.Equal(text, mpan.ToString());
    }

    [Fact]
    public void Mpan_with_wrong_check_digit_is_rejected_naming_the_expected_digit()
    {
        Assert.False(Mpan.TryParse("2499999999990", out _, out var error));

        Assert.Contains("wrong check digit", error, StringComparison.Ordinal);
        Assert.Contains("ends in 0", error, StringComparison.Ordinal);
        Assert.Contains("give check digit 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_throws_format_exception_with_the_same_message()
    {
        var ex = Assert.Throws<FormatException>(() => Mpan.Parse("2499999999990"));

        Assert.Contains("check digit 1", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("13 12345678 90 7")]
    [InlineData("  1312345678907 ")]
    [InlineData("13\t1234 5678\n907")]
    public void Whitespace_anywhere_in_the_core_is_ignored(string text)
    {
        Assert.Equal(Mpan.Parse("1312345678907"), Mpan.Parse(text));
    }

    [Theory]
    [InlineData("131234567890", "13 digits, not 12")]
    [InlineData("13123456789070", "13 digits, not 14")]
    [InlineData("13123456789O7", "non-digit character 'O'")]
    [InlineData("13-12345678-90-7", "non-digit character '-'")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    public void Malformed_core_is_rejected_naming_the_fault(string text, string expected)
    {
        Assert.False(Mpan.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Distributor_id_below_10_is_rejected()
    {
        var body = "051234567890";
        var text = body + Mpan.ComputeCheckDigit(body);

        Assert.False(Mpan.TryParse(text, out _, out var error));
        Assert.Contains("distributor ID 05", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(37)]
    [InlineData(99)]
    public void Unknown_distributor_id_is_rejected_naming_it(int distributorId)
    {
        var body = distributorId + "1234567890";
        var text = body + Mpan.ComputeCheckDigit(body);

        Assert.False(Mpan.TryParse(text, out _, out var error));
        Assert.Contains($"distributor ID {distributorId}", error, StringComparison.Ordinal);
        Assert.Contains("not a known DNO or IDNO", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Core_of_an_idno_parses_and_names_the_idno()
    {
        var body = "361234567890";
        var mpan = Mpan.Parse(body + Mpan.ComputeCheckDigit(body));

        Assert.True(mpan.Distributor.IsIdno);
        Assert.Equal("VATT", mpan.Distributor.MpasId);
    }

    [Theory]
    [InlineData("131234567890", 7)]
    [InlineData("103000671899", 7)]
    [InlineData("200001234567", 2)]
    [InlineData("249999999999", 1)]
    public void Check_digit_is_weighted_sum_mod_11_mod_10(string first12, int expected)
    {
        Assert.Equal(expected, Mpan.ComputeCheckDigit(first12));
    }

    [Theory]
    [InlineData("13123456789")]
    [InlineData("1312345678901")]
    [InlineData("13123456789X")]
    public void Check_digit_needs_exactly_twelve_digits(string first12)
    {
        Assert.Throws<ArgumentException>(() => Mpan.ComputeCheckDigit(first12));
    }

    [Fact]
    public void Cores_compare_by_number()
    {
        var lower = Mpan.Parse("1030006718997");
        var higher = Mpan.Parse("1312345678907");

        Assert.True(lower.CompareTo(higher) < 0);
        Assert.True(higher.CompareTo(lower) > 0);
        Assert.Equal(0, lower.CompareTo(Mpan.Parse("10 30006718 99 7")));
    }

    [Property]
    public Property Every_body_has_exactly_one_check_digit_that_parses() =>
        Prop.ForAll(IdentifierGenerators.MpanBody.ToArbitrary(), body =>
        {
            var parsing = Enumerable.Range(0, 10).Where(c => Mpan.TryParse(body + c, out _)).ToArray();
            return parsing.Length == 1 && parsing[0] == Mpan.ComputeCheckDigit(body);
        });

    [Property]
    public Property Parse_of_ToString_is_the_same_core() =>
        Prop.ForAll(IdentifierGenerators.MpanText.ToArbitrary(), text =>
        {
            var mpan = Mpan.Parse(text);
            return mpan.ToString() == text && Mpan.Parse(mpan.ToString()) == mpan;
        });

    [Property]
    public Property Changing_the_check_digit_makes_a_valid_core_invalid() =>
        Prop.ForAll(IdentifierGenerators.MpanText.ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), (text, shift) =>
        {
            var wrong = (char)('0' + ((text[12] - '0' + shift) % 10));
            return !Mpan.TryParse(text[..12] + wrong, out _);
        });
}
