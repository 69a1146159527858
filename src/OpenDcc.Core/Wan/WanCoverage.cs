using System.Globalization;
using NodaTime;
using NodaTime.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Wan;

/// <summary>How likely a device at an address is to connect to the SM WAN (DUIS <c>ConnectivityLikelihood</c>).</summary>
public enum ConnectivityLikelihood
{
    High,
    Medium,
    Low,
}

/// <summary>
/// What the communications service providers say of SM WAN coverage for the post codes an entry names: a whole post
/// code (<c>M22 0RR</c>), a sector (<c>M22 0</c>), a district (<c>M22</c>) or an area (<c>M</c>). 12.1 Request WAN
/// Matrix answers with the most precise entry that covers the address's post code.
/// </summary>
/// <param name="PostCodes">The post code, sector, district or area, as <see cref="NormalisePostCodes"/> keeps it.</param>
/// <param name="AnticipatedCoverageDate">When coverage is expected, where it is not yet available.</param>
/// <param name="WanTechnology">The SM WAN technology serving it (1 to 30 characters), e.g. <c>Long Range Radio</c>, <c>Cellular</c>, <c>Mesh</c>.</param>
/// <param name="AuxiliaryEquipmentRequired">Equipment an installer needs there (at most 50 characters), e.g. an external aerial.</param>
/// <param name="AdditionalInformation">Anything else the provider says (at most 250 characters).</param>
public sealed record WanCoverage(
    string PostCodes,
    WanRegion Region,
    bool CoverageAvailable,
    LocalDate? AnticipatedCoverageDate,
    string WanTechnology,
    ConnectivityLikelihood ConnectivityLikelihood,
    string? AuxiliaryEquipmentRequired = null,
    string? AdditionalInformation = null)
{
    /// <summary>The header of the CSV file <see cref="Parse"/> reads.</summary>
    public const string CsvHeader = "post_codes,region,coverage_available,anticipated_coverage_date,wan_technology,connectivity_likelihood,auxiliary_equipment_required,additional_information";

    private static readonly LocalDatePattern Date = LocalDatePattern.Iso;

    /// <summary>
    /// A post code, sector, district or area as coverage entries are kept: upper case, a whole post code and a sector
    /// with one space before the inward part (<c>M22 0RR</c>, <c>M22 0</c>); a whole post code may come without its space.
    /// </summary>
    /// <exception cref="FormatException">it is none of the four.</exception>
    public static string NormalisePostCodes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().ToUpperInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        switch (parts)
        {
            case [var area] when PostCode.IsArea(area):
                return area;
            case [var district] when PostCode.IsOutwardCode(district):
                return district;
            case [var whole] when PostCode.Normalise(whole) is { } normalised:
                return normalised;
            case [var district, var digit] when PostCode.IsOutwardCode(district) && digit is [>= '0' and <= '9']:
                return $"{district} {digit}";
            case [var district, var inward] when PostCode.IsOutwardCode(district) && PostCode.IsInwardCode(inward):
                return $"{district} {inward}";
            default:
                throw new FormatException($"'{Excerpt.Of(text.Trim())}' is not a post code (SW1A 1AA), sector (SW1A 1), district (SW1A) or area (SW)");
        }
    }

    /// <summary>
    /// The keys of the entries that may cover a whole post code (as <see cref="Site.NormalisePostCode"/> keeps it), most
    /// precise first: the post code, its sector, its district and its area.
    /// </summary>
    public static IReadOnlyList<string> CoveringKeys(string postCode)
    {
        ArgumentNullException.ThrowIfNull(postCode);
        if (!PostCode.IsNormalised(postCode))
        {
            throw new ArgumentException($"'{postCode}' is not a post code as OpenDcc keeps it (SW1A 1AA)", nameof(postCode));
        }
        var outward = postCode[..^4];
        return [postCode, $"{outward} {postCode[^3]}", outward, string.Concat(outward.TakeWhile(char.IsAsciiLetter))];
    }

    /// <summary>
    /// Reads a coverage file: the header <see cref="CsvHeader"/>, then one entry a line, at least one. Region North,
    /// Central or South; coverage_available yes/no (or true/false); the date ISO (2027-03-31), only where coverage is
    /// not yet available, or empty; likelihood High, Medium or Low; the last two may be empty.
    /// </summary>
    /// <exception cref="FormatException">the header is not that, there is no entry, or a line is wrong, or names post codes an earlier line named; names the line and the field.</exception>
    public static IReadOnlyList<WanCoverage> Parse(TextReader csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var entries = new List<WanCoverage>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var headerSeen = false;
        foreach (var (line, fields) in CsvRecords.Read(csv))
        {
            if (!headerSeen)
            {
                headerSeen = string.Join(',', fields).Equals(CsvHeader, StringComparison.OrdinalIgnoreCase)
                    ? true
                    : throw new FormatException($"line {line}: the header must be {CsvHeader}");
                continue;
            }
            if (fields.Length != 8)
            {
                throw new FormatException($"line {line}: expected 8 fields ({CsvHeader}), got {fields.Length}");
            }
            string Field(int i, string name) => fields[i].Length > 0 ? fields[i] : throw new FormatException($"line {line}: {name} is empty");
            string? Text(int i, string name, int maxLength) =>
                fields[i].Length == 0 ? null : FreeText.FaultOf(fields[i], name, maxLength) is { } fault ? throw new FormatException($"line {line}: {fault}") : fields[i];
            var postCodesText = Field(0, "post_codes");
            string postCodes;
            try
            {
                postCodes = NormalisePostCodes(postCodesText);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {line}: post_codes {e.Message}", e);
            }
            if (!seen.TryAdd(postCodes, line))
            {
                throw new FormatException($"line {line}: post_codes {postCodes} is on line {seen[postCodes]} already");
            }
            var region = Enum.GetNames<WanRegion>().FirstOrDefault(n => n.Equals(Field(1, "region"), StringComparison.OrdinalIgnoreCase)) is { } regionName
                ? Enum.Parse<WanRegion>(regionName)
                : throw new FormatException($"line {line}: region '{Excerpt.Of(fields[1])}' is not one of {string.Join(", ", Enum.GetNames<WanRegion>())}");
            var available = Field(2, "coverage_available").ToUpperInvariant() switch
            {
                "YES" or "TRUE" => true,
                "NO" or "FALSE" => false,
                _ => throw new FormatException($"line {line}: coverage_available '{Excerpt.Of(fields[2])}' is not yes or no (true or false)"),
            };
            LocalDate? anticipated = fields[3].Length == 0 ? null
                : Date.Parse(fields[3]) is { Success: true } date ? date.Value
                : throw new FormatException($"line {line}: anticipated_coverage_date '{Excerpt.Of(fields[3])}' is not a date (2027-03-31)");
            if (available && anticipated is not null)
            {
                throw new FormatException($"line {line}: anticipated_coverage_date is for coverage not yet available, and coverage_available is yes");
            }
            var technology = Text(4, "wan_technology", 30) ?? throw new FormatException($"line {line}: wan_technology is empty");
            var likelihood = Enum.GetNames<ConnectivityLikelihood>().FirstOrDefault(n => n.Equals(Field(5, "connectivity_likelihood"), StringComparison.OrdinalIgnoreCase)) is { } likelihoodName
                ? Enum.Parse<ConnectivityLikelihood>(likelihoodName)
                : throw new FormatException($"line {line}: connectivity_likelihood '{Excerpt.Of(fields[5])}' is not one of {string.Join(", ", Enum.GetNames<ConnectivityLikelihood>())}");
            entries.Add(new WanCoverage(postCodes, region, available, anticipated, technology, likelihood, Text(6, "auxiliary_equipment_required", 50), Text(7, "additional_information", 250)));
        }
        return !headerSeen ? throw new FormatException($"is empty: the first line must be the header {CsvHeader}")
            : entries.Count == 0 ? throw new FormatException("holds the header and no entry: importing it would remove all the coverage data (a file cut short?)")
            : entries;
    }

    /// <summary>The date as DUIS writes an <c>xs:date</c>.</summary>
    public static string FormatDate(LocalDate date) => Date.Format(date);

    /// <inheritdoc cref="FormatDate"/>
    public static string? FormatDate(LocalDate? date) => date is { } d ? FormatDate(d) : null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PostCodes}: {Region}, {(CoverageAvailable ? "covered" : "not covered")}{(AnticipatedCoverageDate is { } d ? $" (expected {FormatDate(d)})" : "")}, {WanTechnology}, connectivity {ConnectivityLikelihood}");
}

/// <summary>
/// The SM WAN coverage data the communications service providers publish, as the operator last imported it (an external
/// data source: <c>opendcc wan coverage import</c> replaces it whole).
/// </summary>
public interface IWanCoverageStore
{
    /// <summary>Replaces every entry with these, in one transaction.</summary>
    /// <exception cref="ArgumentException">two entries name the same post codes.</exception>
    Task ReplaceAsync(IReadOnlyList<WanCoverage> coverage, CancellationToken cancellationToken = default);

    /// <summary>The most precise entry covering a post code (as <see cref="Site.NormalisePostCode"/> keeps it): its own, its sector's, its district's or its area's; null when none does.</summary>
    Task<WanCoverage?> FindAsync(string postCode, CancellationToken cancellationToken = default);

    Task<long> CountAsync(CancellationToken cancellationToken = default);
}
