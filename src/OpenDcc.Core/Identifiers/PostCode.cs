using System.Text.RegularExpressions;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// The shape of a UK post code, the one definition the inventory's sites and the SM WAN coverage data share: an outward
/// code (the area's one or two letters, a digit, and a letter or digit at most: <c>SW1A</c>) and an inward code (a
/// digit and two letters: <c>1AA</c>).
/// </summary>
/// <remarks>
/// The shape, not the Royal Mail's list: which letters each position may take is not checked. <c>GIR 0AA</c>
/// (Girobank's, the one post code off the shape) is refused: it is a non-geographic code for a bank's mail, with no
/// sector, district or area the coverage data could place it in. Overseas territories' codes (<c>ASCN 1ZZ</c>) and
/// BFPO numbers are outside Great Britain and the DCC.
/// </remarks>
public static partial class PostCode
{
    /// <summary>What a post code looks like, for messages.</summary>
    public const string Shape = "an outward code (one or two letters, a digit, and a letter or digit at most) and an inward code (a digit and two letters), like SW1A 1AA";

    private const string OutwardPattern = "[A-Z]{1,2}[0-9][A-Z0-9]?";
    private const string InwardPattern = "[0-9][A-Z]{2}";

    /// <summary>
    /// A whole post code as OpenDcc keeps it: white space anywhere removed, upper case, then one space before the inward
    /// code, so <c>sw1a1aa</c>, <c>SW1A 1AA</c> and <c>SW1A  1AA</c> are one post code; null when the text is not one.
    /// </summary>
    public static string? Normalise(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var squeezed = string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        return squeezed.All(char.IsAscii) && Whole().Match(squeezed.ToUpperInvariant()) is { Success: true } m
            ? $"{m.Groups[1].Value} {m.Groups[2].Value}"
            : null;
    }

    /// <summary>Whether <paramref name="text"/> is a whole post code as OpenDcc keeps it (<see cref="Normalise"/>: <c>SW1A 1AA</c>), not a sector, district or area, nor one of another shape.</summary>
    public static bool IsNormalised(string text) => Normalise(text) == text;

    /// <summary>Whether <paramref name="text"/> (upper case) is an outward code, a post code's district (<c>SW1A</c>).</summary>
    public static bool IsOutwardCode(string text) => Outward().IsMatch(text);

    /// <summary>Whether <paramref name="text"/> (upper case) is an inward code (<c>1AA</c>).</summary>
    public static bool IsInwardCode(string text) => Inward().IsMatch(text);

    /// <summary>Whether <paramref name="text"/> (upper case) is a post code area, the letters an outward code starts with (<c>SW</c>).</summary>
    public static bool IsArea(string text) => text.Length is 1 or 2 && text.All(char.IsAsciiLetterUpper);

    [GeneratedRegex($"^{OutwardPattern}$")]
    private static partial Regex Outward();

    [GeneratedRegex($"^{InwardPattern}$")]
    private static partial Regex Inward();

    [GeneratedRegex($"^({OutwardPattern})({InwardPattern})$")]
    private static partial Regex Whole();
}
