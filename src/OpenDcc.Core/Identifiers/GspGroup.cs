using System.Diagnostics.CodeAnalysis;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A Grid Supply Point Group, written as an underscore and a letter (<c>_A</c> to <c>_P</c>): one of the fourteen
/// areas that settlement and the original distribution licences divide Great Britain into.
/// </summary>
/// <remarks>
/// Letters I and O are not used, so the DNO distributor IDs do not map to the letters in order
/// (17 is <c>_P</c>, 18 is <c>_N</c>); see <see cref="Distributor"/>. Source: market-rules.md §1.3.
/// <c>default(GspGroup)</c> is not a GSP group; obtain values from <see cref="Parse"/> or <see cref="All"/>.
/// </remarks>
public readonly record struct GspGroup : IComparable<GspGroup>
{
    private static readonly (char Letter, string AreaName)[] Areas =
    [
        ('A', "Eastern England"),
        ('B', "East Midlands"),
        ('C', "London"),
        ('D', "Merseyside & N. Wales"),
        ('E', "West Midlands"),
        ('F', "North East England"),
        ('G', "North West England"),
        ('H', "Southern England"),
        ('J', "South East England"),
        ('K', "South Wales"),
        ('L', "South West England"),
        ('M', "Yorkshire"),
        ('N', "South Scotland"),
        ('P', "North Scotland"),
    ];

    private readonly char letter;

    private GspGroup(char letter) => this.letter = letter;

    /// <summary>All fourteen GSP groups, in letter order.</summary>
    public static IReadOnlyList<GspGroup> All { get; } = Array.AsReadOnly(Areas.Select(a => new GspGroup(a.Letter)).ToArray());

    /// <summary>The upper-case letter after the underscore.</summary>
    public char Letter => letter;

    /// <summary>The geographic area the group covers, e.g. <c>North Scotland</c> for <c>_P</c>.</summary>
    public string AreaName
    {
        get
        {
            foreach (var (l, name) in Areas)
            {
                if (l == letter)
                {
                    return name;
                }
            }
            throw new InvalidOperationException("default(GspGroup) is not a GSP group");
        }
    }

    public static GspGroup Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out GspGroup result) => TryParse(text, out result, out _);

    /// <summary>Parses <c>_A</c> to <c>_P</c>; the letter may be lower case.</summary>
    public static bool TryParse(string? text, out GspGroup result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "GSP group is empty";
            return false;
        }
        var s = text.Trim();
        if (s.Length != 2 || s[0] != '_' || !char.IsAsciiLetter(s[1]))
        {
            error = $"GSP group '{s}' must be an underscore and a letter, like _A";
            return false;
        }
        var upper = char.ToUpperInvariant(s[1]);
        if (!Array.Exists(Areas, a => a.Letter == upper))
        {
            error = upper is 'I' or 'O'
                ? $"GSP group '{s}' does not exist: letters I and O are not used"
                : $"GSP group '{s}' does not exist: groups run from _A to _P";
            return false;
        }
        result = new GspGroup(upper);
        error = null;
        return true;
    }

    public override string ToString() => string.Concat("_", letter.ToString());

    public int CompareTo(GspGroup other) => letter.CompareTo(other.letter);
}
