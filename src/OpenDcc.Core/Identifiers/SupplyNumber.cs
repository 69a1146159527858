using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// The full 21-character electricity Supply Number ("full MPAN"): the top line of profile class (2 digits),
/// meter timeswitch code (3 digits) and line loss factor class (3 of <c>[A-Z0-9]</c>), then the 13-digit
/// <see cref="Mpan"/> core, e.g. <c>018011001312345678907</c>.
/// </summary>
/// <remarks>
/// <para>Parsing ignores whitespace anywhere, so the printed form <c>01 801 100 13 12345678 90 7</c>, a two-line
/// copy from a bill, and the 21 characters run together all parse; what remains must be exactly 21 characters.
/// The LLFC may be given in lower case; it is kept in upper case. <see cref="ToString"/> writes the 21 characters
/// without separators.</para>
/// <para>The top line is checked for shape only. Any two-digit profile class is accepted, not just 00 to 08,
/// because REC change R0083 re-purposes the top line for MPANs migrated to MHHS and its final format is not
/// yet confirmed (market-rules.md §1.1, MHHS caveat). The core is validated in full.</para>
/// <para><c>default(SupplyNumber)</c> is not a supply number; obtain values from <see cref="Parse"/>.</para>
/// </remarks>
public readonly record struct SupplyNumber
{
    private readonly string? lineLossFactorClass;

    private SupplyNumber(int profileClass, int meterTimeswitchCode, string lineLossFactorClass, Mpan core)
    {
        ProfileClass = profileClass;
        MeterTimeswitchCode = meterTimeswitchCode;
        this.lineLossFactorClass = lineLossFactorClass;
        Core = core;
    }

    /// <summary>The profile class, 0 to 99; 00 to 08 before MHHS, where 00 means half-hourly.</summary>
    public int ProfileClass { get; }

    /// <summary>The meter timeswitch code, 0 to 999.</summary>
    public int MeterTimeswitchCode { get; }

    /// <summary>The line loss factor class: three upper-case letters or digits.</summary>
    public string LineLossFactorClass => lineLossFactorClass ?? string.Empty;

    /// <summary>The MPAN core, the bottom line.</summary>
    public Mpan Core { get; }

    public static SupplyNumber Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out SupplyNumber result) => TryParse(text, out result, out _);

    public static bool TryParse(string? text, out SupplyNumber result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "Supply number is empty";
            return false;
        }
        var shown = text.Trim();
        var s = Mpan.RemoveWhitespace(shown);
        if (s.Length != 21)
        {
            error = s.Length == 13
                ? $"Supply number '{shown}' has 13 characters, like an MPAN core alone; a supply number also needs the 8-character top line (profile class, MTC, LLFC)"
                : $"Supply number '{shown}' must be 21 characters (profile class 2, MTC 3, LLFC 3, core 13) once spaces are removed, not {s.Length}";
            return false;
        }
        var profileClass = s[..2];
        if (profileClass.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = $"Supply number '{shown}' has profile class '{profileClass}', which must be two digits";
            return false;
        }
        var mtc = s[2..5];
        if (mtc.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = $"Supply number '{shown}' has meter timeswitch code '{mtc}', which must be three digits";
            return false;
        }
        var llfc = s[5..8];
        if (!llfc.All(char.IsAsciiLetterOrDigit))
        {
            error = $"Supply number '{shown}' has line loss factor class '{llfc}', which must be three letters or digits";
            return false;
        }
        if (!Mpan.TryParseCompact(s[8..], s[8..], out var core, out var coreError))
        {
            error = $"Supply number '{shown}' has an invalid core: {coreError}";
            return false;
        }
        result = new SupplyNumber(
            int.Parse(profileClass, NumberStyles.None, CultureInfo.InvariantCulture),
            int.Parse(mtc, NumberStyles.None, CultureInfo.InvariantCulture),
            llfc.ToUpperInvariant(),
            core);
        error = null;
        return true;
    }

    /// <summary>The 21 characters without separators, e.g. <c>018011001312345678907</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ProfileClass:D2}{MeterTimeswitchCode:D3}{LineLossFactorClass}{Core}");
}
