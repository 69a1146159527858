using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Tests.Identifiers;
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Tests.Wan;

public class WanCoverageTests
{
    [Theory]
    [InlineData("m22 0rr", "M22 0RR")]
    [InlineData("M220RR", "M22 0RR")]
    [InlineData(" SW1A  1AA ", "SW1A 1AA")]
    [InlineData("sw1a 1", "SW1A 1")]
    [InlineData("M22", "M22")]
    [InlineData("ec1a", "EC1A")]
    [InlineData("m", "M")]
    [InlineData("SW", "SW")]
    public void Post_codes_sectors_districts_and_areas_are_kept_upper_case_with_one_space_before_the_inward_part(string text, string expected) =>
        Assert.Equal(expected, WanCoverage.NormalisePostCodes(text));

    [Theory]
    [InlineData("")]
    [InlineData("ABC")]
    [InlineData("M22 0R")]
    [InlineData("M22 ORR")]
    [InlineData("22 0RR")]
    [InlineData("M22 0RR X")]
    [InlineData("M2222")]
    public void Anything_else_is_refused_saying_what_a_post_code_sector_district_and_area_look_like(string text)
    {
        var error = Assert.Throws<FormatException>(() => WanCoverage.NormalisePostCodes(text));
        Assert.Contains("is not a post code (SW1A 1AA), sector (SW1A 1), district (SW1A) or area (SW)", error.Message, StringComparison.Ordinal);
    }

    [Property]
    public Property A_whole_post_code_however_spaced_and_cased_normalises_to_one_form_covered_by_its_sector_district_and_area() =>
        Prop.ForAll(IdentifierGenerators.PostCodes.ToArbitrary(), Gen.Elements("", " ", "  ").ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (postCode, space, lower) =>
        {
            var text = $"{postCode.Outward}{space}{postCode.Inward}";
            var normalised = WanCoverage.NormalisePostCodes(lower ? text.ToLowerInvariant() : text);
            var area = string.Concat(postCode.Outward.TakeWhile(char.IsAsciiLetter));
            return normalised == $"{postCode.Outward} {postCode.Inward}"
                && Core.Identifiers.PostCode.IsNormalised(normalised)
                && WanCoverage.NormalisePostCodes(normalised) == normalised
                && WanCoverage.CoveringKeys(normalised).SequenceEqual([normalised, $"{postCode.Outward} {postCode.Inward[0]}", postCode.Outward, area]);
        });

    [Fact]
    public void A_coverage_file_is_read_with_every_field()
    {
        var csv = $"""
            {WanCoverage.CsvHeader}
            m22 0rr,central,yes,,Cellular,high,,
            M22,Central,no,2027-03-31,Cellular,Low,External aerial,"Coverage due, subject to survey"
            IV,north,True,,Long Range Radio,Medium,,
            """;

        var entries = WanCoverage.Parse(new StringReader(csv));

        Assert.Equal(
            [
                new WanCoverage("M22 0RR", WanRegion.Central, true, null, "Cellular", ConnectivityLikelihood.High),
                new WanCoverage("M22", WanRegion.Central, false, new LocalDate(2027, 3, 31), "Cellular", ConnectivityLikelihood.Low, "External aerial", "Coverage due, subject to survey"),
                new WanCoverage("IV", WanRegion.North, true, null, "Long Range Radio", ConnectivityLikelihood.Medium),
            ],
            entries);
    }

    [Theory]
    [InlineData("M22,Central,yes,,Cellular,High,,\nM22,South,yes,,Cellular,High,,", "line 3: post_codes M22 is on line 2 already")]
    [InlineData("M22 0RRR,Central,yes,,Cellular,High,,", "line 2: post_codes 'M22 0RRR' is not a post code")]
    [InlineData("M22,East,yes,,Cellular,High,,", "line 2: region 'East' is not one of North, Central, South")]
    [InlineData("M22,Central,maybe,,Cellular,High,,", "line 2: coverage_available 'maybe' is not yes or no")]
    [InlineData("M22,Central,no,31/03/2027,Cellular,High,,", "line 2: anticipated_coverage_date '31/03/2027' is not a date (2027-03-31)")]
    [InlineData("M22,Central,yes,,,High,,", "line 2: wan_technology is empty")]
    [InlineData("M22,Central,yes,,Cellular,Certain,,", "line 2: connectivity_likelihood 'Certain' is not one of High, Medium, Low")]
    [InlineData("M22,Central,yes,,Cellular,High", "line 2: expected 8 fields")]
    [InlineData(",Central,yes,,Cellular,High,,", "line 2: post_codes is empty")]
    [InlineData("M22,Central,yes,2027-03-31,Cellular,High,,", "line 2: anticipated_coverage_date is for coverage not yet available")]
    [InlineData("M22,Central,yes,,A technology name far longer than thirty,High,,", "line 2: wan_technology")]
    public void A_wrong_line_is_refused_naming_the_line_and_the_field(string lines, string expected)
    {
        var error = Assert.Throws<FormatException>(() => WanCoverage.Parse(new StringReader($"{WanCoverage.CsvHeader}\n{lines}")));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_the_header_is_refused_naming_it()
    {
        Assert.Contains(WanCoverage.CsvHeader, Assert.Throws<FormatException>(() => WanCoverage.Parse(new StringReader("M22,Central,yes,,Cellular,High,,"))).Message, StringComparison.Ordinal);
        Assert.Contains("is empty", Assert.Throws<FormatException>(() => WanCoverage.Parse(new StringReader(""))).Message, StringComparison.Ordinal);
        // A header alone would empty the coverage data.
        Assert.Contains("would remove all the coverage data", Assert.Throws<FormatException>(() => WanCoverage.Parse(new StringReader(WanCoverage.CsvHeader))).Message, StringComparison.Ordinal);
    }
}
