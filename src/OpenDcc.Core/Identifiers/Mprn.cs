using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A gas Meter Point Reference Number: 6 to 10 digits, most often 10, e.g. <c>3938424403</c>. It encodes no region.
/// </summary>
/// <remarks>
/// <para>Parsing accepts any 6 to 10 digits (surrounding whitespace is trimmed) and keeps leading zeros, because the
/// digit count matters to the check-digit rule.</para>
/// <para>The last two digits are, by the community rule, Σ bodyᵢ·(L − i) mod 11 over the L body digits, written as two
/// digits ("10" is possible). Xoserve has not published that rule (market-rules.md §1.2), so a failing MPRN still
/// parses: see <see cref="HasValidCheckDigits"/> and <see cref="CheckDigitWarning"/>.</para>
/// <para><c>default(Mprn)</c> is not an MPRN; obtain values from <see cref="Parse"/>.</para>
/// </remarks>
public readonly record struct Mprn : IComparable<Mprn>
{
    private readonly string? digits;

    private Mprn(string digits) => this.digits = digits;

    /// <summary>True when the last two digits match the community check-digit rule.</summary>
    public bool HasValidCheckDigits
    {
        get
        {
            var s = ToString();
            return s.Length >= 3 && ComputeCheckDigits(s.AsSpan(0, s.Length - 2)) == ExpectedLastTwo(s);
        }
    }

    /// <summary>Null when the check digits pass; otherwise why they fail and that the check is advisory only.</summary>
    public string? CheckDigitWarning
    {
        get
        {
            if (HasValidCheckDigits)
            {
                return null;
            }
            var s = ToString();
            if (s.Length < 3)
            {
                return "default(Mprn) is not an MPRN";
            }
            var expected = ComputeCheckDigits(s.AsSpan(0, s.Length - 2));
            return $"MPRN {s} ends in {s[^2..]}, but the community check-digit rule gives {expected:D2}; "
                + "Xoserve has not confirmed that rule, so this is a warning, not a rejection";
        }
    }

    /// <summary>True when the MPRN starts 74 to 77, the ranges of Independent Gas Transporters.</summary>
    public bool IsIndependentGasTransporter => ToString() is ['7', >= '4' and <= '7', ..];

    public static Mprn Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Mprn result) => TryParse(text, out result, out _);

    public static bool TryParse(string? text, out Mprn result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "MPRN is empty";
            return false;
        }
        var s = text.Trim();
        var bad = s.AsSpan().IndexOfAnyExceptInRange('0', '9');
        if (bad >= 0)
        {
            error = $"MPRN '{s}' has a non-digit character '{s[bad]}'";
            return false;
        }
        if (s.Length is < 6 or > 10)
        {
            error = $"MPRN '{s}' must be 6 to 10 digits, not {s.Length}";
            return false;
        }
        result = new Mprn(s);
        error = null;
        return true;
    }

    /// <summary>
    /// The community check value for an MPRN body (every digit but the last two): Σ bodyᵢ·(L − i) mod 11,
    /// 0 to 10, written as two digits at the end of the MPRN.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="body"/> is empty or not all ASCII digits.</exception>
    public static int ComputeCheckDigits(ReadOnlySpan<char> body)
    {
        if (body.IsEmpty || body.ContainsAnyExceptInRange('0', '9'))
        {
            throw new ArgumentException($"MPRN check digits are computed from a body of digits, not '{body}'", nameof(body));
        }
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            sum += (body[i] - '0') * (body.Length - i);
        }
        return sum % 11;
    }

    /// <summary>The digits as parsed, leading zeros kept.</summary>
    public override string ToString() => digits ?? string.Empty;

    /// <summary>Numeric order; equal numbers with different leading zeros order by length.</summary>
    public int CompareTo(Mprn other)
    {
        var a = ToString().AsSpan();
        var b = other.ToString().AsSpan();
        var aSignificant = a.TrimStart('0');
        var bSignificant = b.TrimStart('0');
        var order = aSignificant.Length.CompareTo(bSignificant.Length);
        if (order == 0)
        {
            order = aSignificant.SequenceCompareTo(bSignificant);
        }
        return order != 0 ? order : a.Length.CompareTo(b.Length);
    }

    private static int ExpectedLastTwo(string s) => int.Parse(s.AsSpan(s.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture);
}
