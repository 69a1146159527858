using FsCheck;
using FsCheck.Fluent;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

/// <summary>Generators of valid identifier text, shared by the property tests.</summary>
internal static class IdentifierGenerators
{
    public static Gen<string> Digits(int count) =>
        Gen.ArrayOf(Gen.Choose('0', '9').Select(c => (char)c), count).Select(cs => new string(cs));

    /// <summary>Twelve digits starting with a known distributor ID: an MPAN core without its check digit.</summary>
    public static Gen<string> MpanBody =>
        from distributor in Gen.Elements(Distributor.All.Select(d => d.Id.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)))
        from rest in Digits(10)
        select distributor + rest;

    public static Gen<string> MpanText =>
        MpanBody.Select(body => body + Mpan.ComputeCheckDigit(body).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static Gen<string> SupplyNumberText =>
        from profileClass in Digits(2)
        from mtc in Digits(3)
        from llfc in Gen.ArrayOf(Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".ToCharArray()), 3)
        from core in MpanText
        select profileClass + mtc + new string(llfc) + core;

    public static Gen<string> MprnText => Gen.Choose(6, 10).SelectMany(Digits);

    public static Gen<long> UprnValue =>
        from high in Gen.Choose(0, 999_999)
        from low in Gen.Choose(0, 999_999)
        let value = (high * 1_000_000L) + low
        where value > 0
        select value;

    private static readonly Gen<string> PostCodeLetter = Gen.Elements("ABCDEFGHIJKLMNOPRSTUWYZ".ToCharArray()).Select(c => c.ToString());
    private static readonly Gen<string> PostCodeDigit = Gen.Choose(0, 9).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Whole post codes in their usual shapes (A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA, AA9A 9AA), outward and inward code apart.</summary>
    public static Gen<(string Outward, string Inward)> PostCodes =>
        from area in Gen.OneOf(PostCodeLetter, from a in PostCodeLetter from b in PostCodeLetter select a + b)
        from district in Gen.OneOf(PostCodeDigit, from a in PostCodeDigit from b in PostCodeDigit select a + b, from a in PostCodeDigit from b in PostCodeLetter select a + b)
        from sector in PostCodeDigit
        from unit in Gen.ArrayOf(PostCodeLetter, 2)
        select (area + district, sector + string.Concat(unit));
}
