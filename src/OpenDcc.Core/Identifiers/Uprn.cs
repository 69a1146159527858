using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A Unique Property Reference Number: a positive whole number of up to 12 digits with no check digit, e.g.
/// <c>100023336956</c>, given to an addressable place for life by the local authority and Ordnance Survey.
/// </summary>
/// <remarks>
/// <para>Parsing accepts 1 to 12 digits (surrounding whitespace trimmed). Leading zeros are accepted, as some systems
/// pad UPRNs to 12 digits, and dropped: a UPRN is a number, <c>000012345678</c> is UPRN 12345678, and
/// <see cref="ToString"/> never zero-pads (market-rules.md §1.4). Zero is rejected: UPRNs start at 1.</para>
/// <para><c>default(Uprn)</c> is zero, which is not a UPRN; obtain values from <see cref="Parse"/> or the constructor.</para>
/// </remarks>
public readonly record struct Uprn : IComparable<Uprn>
{
    /// <summary>The largest UPRN, twelve nines.</summary>
    public const long MaxValue = 999_999_999_999;

    private readonly long value;

    /// <summary>Wraps a stored UPRN.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is not 1 to <see cref="MaxValue"/>.</exception>
    public Uprn(long value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        this.value = value;
    }

    public long Value => value;

    public static Uprn Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Uprn result) => TryParse(text, out result, out _);

    public static bool TryParse(string? text, out Uprn result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "UPRN is empty";
            return false;
        }
        var s = text.Trim();
        var bad = s.AsSpan().IndexOfAnyExceptInRange('0', '9');
        if (bad >= 0)
        {
            error = $"UPRN '{s}' has a non-digit character '{s[bad]}'";
            return false;
        }
        if (s.Length > 12)
        {
            error = $"UPRN '{s}' must be at most 12 digits, not {s.Length}";
            return false;
        }
        var parsed = long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        if (parsed == 0)
        {
            error = $"UPRN '{s}' is zero; UPRNs start at 1";
            return false;
        }
        result = new Uprn(parsed);
        error = null;
        return true;
    }

    /// <summary>The number in decimal, without leading zeros.</summary>
    public override string ToString() => value.ToString(CultureInfo.InvariantCulture);

    public int CompareTo(Uprn other) => value.CompareTo(other.value);
}
