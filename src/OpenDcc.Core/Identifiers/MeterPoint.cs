namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A metering point: an electricity one, named by its MPAN core, or a gas one, named by its MPRN (DUIS calls either an
/// MPxN). What a meter serves, and what has one meter in service at a time, whichever fuel.
/// </summary>
/// <remarks>
/// An <see cref="Identifiers.Mpan"/> or an <see cref="Identifiers.Mprn"/> converts to one implicitly. An MPAN and an
/// MPRN are never the same meter point, whatever their digits. <c>default(MeterPoint)</c> is not a meter point.
/// </remarks>
public readonly record struct MeterPoint
{
    private MeterPoint(Mpan? mpan, Mprn? mprn)
    {
        Mpan = mpan;
        Mprn = mprn;
    }

    /// <summary>An electricity meter point's MPAN core; null for a gas meter point.</summary>
    public Mpan? Mpan { get; }

    /// <summary>A gas meter point's MPRN; null for an electricity meter point.</summary>
    public Mprn? Mprn { get; }

    /// <summary>What names it, as messages say it: <c>MPAN</c> or <c>MPRN</c>.</summary>
    public string Kind => Mpan is null ? "MPRN" : "MPAN";

    public static implicit operator MeterPoint(Mpan mpan) => FromMpan(mpan);

    public static implicit operator MeterPoint(Mprn mprn) => FromMprn(mprn);

    /// <summary>The electricity meter point with that MPAN core.</summary>
    public static MeterPoint FromMpan(Mpan mpan) => new(mpan, null);

    /// <summary>The gas meter point with that MPRN.</summary>
    public static MeterPoint FromMprn(Mprn mprn) => new(null, mprn);

    /// <summary>The MPAN core's or the MPRN's digits, as DUIS writes an MPxN.</summary>
    public override string ToString() => Mpan?.ToString() ?? Mprn?.ToString() ?? string.Empty;
}
