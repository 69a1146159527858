namespace OpenDcc.Core;

/// <summary>
/// Text a person or a request gives that OpenDcc keeps and shows again as it is: a user's name, a device's model,
/// an address identifier. Trimmed, of bounded length, and without control characters (a line break, a tab, a terminal
/// escape), which would break the tables and lists that show it, and the single-line logs that quote it.
/// </summary>
public static class FreeText
{
    /// <summary><paramref name="value"/> trimmed.</summary>
    /// <exception cref="ArgumentException">it has a <see cref="FaultOf"/>; the exception names <paramref name="parameter"/>.</exception>
    public static string Checked(string value, string what, int maxLength, string parameter)
    {
        ArgumentNullException.ThrowIfNull(value, parameter);
        return FaultOf(value, what, maxLength) is { } fault ? throw new ArgumentException(fault, parameter) : value.Trim();
    }

    /// <summary>
    /// What is wrong with <paramref name="value"/> as <paramref name="what"/>, trimmed: empty, longer than
    /// <paramref name="maxLength"/>, or holding a control character; null when nothing is.
    /// </summary>
    public static string? FaultOf(string value, string what, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        var trimmed = value.Trim();
        return trimmed.Length == 0 || trimmed.Length > maxLength ? $"{what} is 1 to {maxLength} characters, not '{Excerpt.Of(trimmed)}'"
            : trimmed.AsSpan().IndexOfAnyInRange('\0', '\x1f') >= 0 || trimmed.AsSpan().IndexOfAnyInRange('\x7f', '\x9f') >= 0
                ? $"{what} holds a control character (a line break, a tab, an escape): '{Excerpt.Of(trimmed.ReplaceLineEndings(" "))}'"
            : null;
    }
}
