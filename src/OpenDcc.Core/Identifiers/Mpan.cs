using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// An MPAN core: the 13-digit bottom line of an electricity Supply Number, e.g. <c>1312345678907</c>. It is a
/// two-digit distributor ID, a ten-digit unique identifier and a check digit, and names a metering point for life.
/// </summary>
/// <remarks>
/// <para>Parsing ignores whitespace anywhere, because bills print the core in groups (<c>13 12345678 90 7</c>).
/// It rejects a distributor ID that is not in <see cref="Distributor.All"/> and a wrong check digit.</para>
/// <para><c>default(Mpan)</c> is not an MPAN (its distributor ID is 00); obtain values from <see cref="Parse"/>.</para>
/// </remarks>
public readonly record struct Mpan : IComparable<Mpan>
{
    // Primes from 3, skipping 11 (market-rules.md §1.1; limejump/mpan, tlocke/mpan).
    private static ReadOnlySpan<int> Weights => [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];

    private const ulong DistributorDivisor = 100_000_000_000;

    private readonly ulong value;

    private Mpan(ulong value) => this.value = value;

    /// <summary>The first two digits, e.g. 13.</summary>
    public int DistributorId => (int)(value / DistributorDivisor);

    /// <summary>The distributor whose network the metering point is on.</summary>
    public Distributor Distributor => Distributor.FromId(DistributorId);

    /// <summary>The ten digits between the distributor ID and the check digit, leading zeros kept.</summary>
    public string UniqueIdentifier => ToString().Substring(2, 10);

    /// <summary>The last digit.</summary>
    public int CheckDigit => (int)(value % 10);

    public static Mpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Mpan result) => TryParse(text, out result, out _);

    /// <summary>The core of a distributor's metering point with that unique identifier, its check digit computed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the distributor is unknown or the identifier is not 0 to 9,999,999,999.</exception>
    public static Mpan Create(int distributorId, long uniqueIdentifier)
    {
        if (!Distributor.TryFromId(distributorId, out _))
        {
            throw new ArgumentOutOfRangeException(nameof(distributorId), distributorId, "not a known DNO or IDNO distributor ID");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(uniqueIdentifier);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(uniqueIdentifier, 9_999_999_999L);
        var first12 = string.Create(CultureInfo.InvariantCulture, $"{distributorId:D2}{uniqueIdentifier:D10}");
        return new Mpan((ulong.Parse(first12, CultureInfo.InvariantCulture) * 10) + (ulong)ComputeCheckDigit(first12));
    }

    public static bool TryParse(string? text, out Mpan result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "MPAN core is empty";
            return false;
        }
        var shown = text.Trim();
        return TryParseCompact(RemoveWhitespace(shown), shown, out result, out error);
    }

    /// <summary>
    /// The check digit for the first twelve digits of a core: Σ dᵢ·wᵢ mod 11 mod 10, with weights
    /// 3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="first12"/> is not twelve ASCII digits.</exception>
    public static int ComputeCheckDigit(ReadOnlySpan<char> first12)
    {
        if (first12.Length != 12 || first12.ContainsAnyExceptInRange('0', '9'))
        {
            throw new ArgumentException($"An MPAN check digit is computed from 12 digits, not '{first12}'", nameof(first12));
        }
        var sum = 0;
        for (var i = 0; i < 12; i++)
        {
            sum += (first12[i] - '0') * Weights[i];
        }
        // A sum ≡ 10 (mod 11) also gives 0, so check digit 0 has two pre-images.
        return sum % 11 % 10;
    }

    /// <summary>Thirteen digits, no separators.</summary>
    public override string ToString() => value.ToString("D13", CultureInfo.InvariantCulture);

    public int CompareTo(Mpan other) => value.CompareTo(other.value);

    /// <summary>Parses a core with whitespace already removed; <paramref name="shown"/> is what errors quote.</summary>
    internal static bool TryParseCompact(string digits, string shown, out Mpan result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        var bad = digits.AsSpan().IndexOfAnyExceptInRange('0', '9');
        if (bad >= 0)
        {
            error = $"MPAN core '{shown}' has a non-digit character '{digits[bad]}'";
            return false;
        }
        if (digits.Length != 13)
        {
            error = $"MPAN core '{shown}' must be 13 digits, not {digits.Length}";
            return false;
        }
        var distributorId = ((digits[0] - '0') * 10) + (digits[1] - '0');
        if (!Distributor.TryFromId(distributorId, out _))
        {
            error = distributorId < 10
                ? $"MPAN core '{shown}' has distributor ID {digits[..2]}, but distributor IDs start at 10"
                : $"MPAN core '{shown}' has distributor ID {distributorId}, which is not a known DNO or IDNO";
            return false;
        }
        var expected = ComputeCheckDigit(digits.AsSpan(0, 12));
        var actual = digits[12] - '0';
        if (actual != expected)
        {
            error = $"MPAN core '{shown}' has the wrong check digit: it ends in {actual}, but its first 12 digits give check digit {expected}";
            return false;
        }
        result = new Mpan(ulong.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture));
        error = null;
        return true;
    }

    internal static string RemoveWhitespace(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
}
