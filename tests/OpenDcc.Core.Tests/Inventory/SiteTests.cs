using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Tests.Identifiers;

namespace OpenDcc.Core.Tests.Inventory;

public class SiteTests
{
    [Theory]
    [InlineData("sw1a1aa", "SW1A 1AA")]
    [InlineData(" SW1A  1AA ", "SW1A 1AA")]
    [InlineData("m1 1ae", "M1 1AE")]
    [InlineData("B33 8TH", "B33 8TH")]
    [InlineData("cr26xh", "CR2 6XH")]
    [InlineData("DN55 1PT", "DN55 1PT")]
    [InlineData("W1A 0AX", "W1A 0AX")]
    [InlineData("EC1A 1BB", "EC1A 1BB")]
    public void A_post_code_is_kept_upper_case_with_one_space_before_the_inward_code(string text, string expected)
    {
        Assert.Equal(expected, Site.NormalisePostCode(text));
        Assert.Equal(expected, new Site(new Uprn(1), text).PostCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void No_post_code_is_none(string? text) => Assert.Null(Site.NormalisePostCode(text));

    [Theory]
    [InlineData("1234567")] // letters and digits, but no post code
    [InlineData("ZZZ")]
    [InlineData("ABCDEFG")]
    [InlineData("M22 ORR")] // a letter O where the inward code's digit goes
    [InlineData("22 0RR")] // no area
    [InlineData("ABC1 1AA")] // a three-letter area
    [InlineData("M222 0RR")] // too many district digits
    [InlineData("M22 0R")]
    [InlineData("M22 0RRR")]
    [InlineData("M22 00R")]
    [InlineData("M-22 0RR")]
    [InlineData("GIR 0AA")] // Girobank's non-geographic code, outside the shape (see PostCode)
    public void Anything_but_a_post_code_is_refused_saying_what_one_looks_like(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => Site.NormalisePostCode(text));
        Assert.StartsWith($"post code '{text.Trim()}' is not a UK post code", error.Message, StringComparison.Ordinal);
        Assert.Contains("SW1A 1AA", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Site(new Uprn(1), text));
    }

    /// <summary>A text's characters in random case with random white space between and around them.</summary>
    private static Gen<string> Scrambled(string text) =>
        from cases in Gen.ArrayOf(Gen.Elements(true, false), text.Length)
        from gaps in Gen.ArrayOf(Gen.Elements("", "", "", " ", "  ", "\t"), text.Length + 1)
        select gaps[0] + string.Concat(text.Select((c, i) => (cases[i] ? char.ToLowerInvariant(c) : c) + gaps[i + 1]));

    [Property]
    public Property A_post_code_however_spaced_and_cased_normalises_to_one_form_that_stays_as_it_is() =>
        Prop.ForAll(
            (from postCode in IdentifierGenerators.PostCodes
             from text in Scrambled(postCode.Outward + postCode.Inward)
             select (postCode, text)).ToArbitrary(),
            given =>
            {
                var normalised = Site.NormalisePostCode(given.text);
                return normalised == $"{given.postCode.Outward} {given.postCode.Inward}"
                    && Site.NormalisePostCode(normalised) == normalised
                    && new Site(new Uprn(1), given.text).PostCode == normalised;
            });
}
