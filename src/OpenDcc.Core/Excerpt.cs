namespace OpenDcc.Core;

/// <summary>
/// What a refusal says, cut short. Refusals quote what was sent, so that the sender sees which value was wrong; a field
/// megabytes long would otherwise come back whole (and go into the message log beside the request) once or twice over.
/// </summary>
public static class Excerpt
{
    public const int MaxLength = 1000;

    /// <summary><paramref name="text"/> as it is up to <see cref="MaxLength"/> characters; longer, its start and its length.</summary>
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= MaxLength ? text : $"{Start(text, MaxLength)}… ({text.Length:N0} characters in all)";
    }

    /// <summary>
    /// <paramref name="text"/> as it is up to <see cref="MaxLength"/> characters; longer, its start and its end, and how
    /// much is left out between: for a message that quotes a value and then says what is wrong with it.
    /// </summary>
    public static string Ends(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= MaxLength)
        {
            return text;
        }
        var head = Start(text, MaxLength / 2);
        var tail = text.Length - (MaxLength / 2);
        if (char.IsLowSurrogate(text[tail]) && char.IsHighSurrogate(text[tail - 1]))
        {
            tail++;
        }
        return $"{head} … ({tail - head.Length:N0} characters left out) … {text[tail..]}";
    }

    /// <summary>
    /// The first <paramref name="maxLength"/> UTF-16 code units of <paramref name="text"/>, one fewer where the cut would
    /// fall inside a surrogate pair: half a character is no text, and PostgreSQL refuses to store it.
    /// </summary>
    public static string Start(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (text.Length <= maxLength)
        {
            return text;
        }
        var cut = maxLength > 0 && char.IsHighSurrogate(text[maxLength - 1]) && char.IsLowSurrogate(text[maxLength]) ? maxLength - 1 : maxLength;
        return text[..cut];
    }
}
