using System.Buffers;
using System.Text;

namespace OpenDcc.Core;

/// <summary>
/// Text a person or a request gives that OpenDcc keeps and shows again as it is: a user's name, a device's model,
/// an address identifier. Trimmed, of bounded length, and without control characters (a line break, a tab, a terminal
/// escape), which would break the tables and lists that show it, and the single-line logs that quote it, nor the
/// invisible marks that turn the direction of the text around it (U+202E and its kin: a name that reads as another).
/// </summary>
public static class FreeText
{
    /// <summary>
    /// What free text may not hold: C0 and C1 controls and DEL; the line and paragraph separators (U+2028, U+2029);
    /// Unicode's bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A to U+202E,
    /// U+2066 to U+2069).
    /// </summary>
    private static readonly SearchValues<char> Refused = SearchValues.Create(
        [.. Range('\0', '\x1f'), .. Range('\x7f', '\x9f'), '\u2028', '\u2029', '\u061c', '\u200e', '\u200f', .. Range('\u202a', '\u202e'), .. Range('\u2066', '\u2069')]);

    /// <summary><paramref name="value"/> trimmed.</summary>
    /// <exception cref="ArgumentException">it has a <see cref="FaultOf"/>; the exception names <paramref name="parameter"/>.</exception>
    public static string Checked(string value, string what, int maxLength, string parameter)
    {
        ArgumentNullException.ThrowIfNull(value, parameter);
        return FaultOf(value, what, maxLength) is { } fault ? throw new ArgumentException(fault, parameter) : value.Trim();
    }

    /// <summary>
    /// What is wrong with <paramref name="value"/> as <paramref name="what"/>, trimmed: empty, longer than
    /// <paramref name="maxLength"/>, or holding a character it may not (each shown as U+XXXX in the fault, so that the
    /// fault itself neither breaks a line nor turns around); null when nothing is.
    /// </summary>
    public static string? FaultOf(string value, string what, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        var trimmed = value.Trim();
        return trimmed.Length == 0 || trimmed.Length > maxLength ? $"{what} is 1 to {maxLength} characters, not '{Excerpt.Of(Shown(trimmed))}'"
            : trimmed.AsSpan().ContainsAny(Refused)
                ? $"{what} holds a control character (a line break, a tab, an escape, a direction mark): '{Excerpt.Of(Shown(trimmed))}'"
            : null;
    }

    /// <summary><paramref name="text"/> with each character free text may not hold written as [U+XXXX].</summary>
    private static string Shown(string text)
    {
        if (!text.AsSpan().ContainsAny(Refused))
        {
            return text;
        }
        var shown = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = Refused.Contains(c) ? shown.Append($"[U+{(int)c:X4}]") : shown.Append(c);
        }
        return shown.ToString();
    }

    private static IEnumerable<char> Range(char first, char last) => Enumerable.Range(first, last - first + 1).Select(c => (char)c);
}
