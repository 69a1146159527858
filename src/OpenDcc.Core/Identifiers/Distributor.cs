using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
// The Distributor.GspGroup property hides the type's name in expressions inside this file.
using Group = OpenDcc.Core.Identifiers.GspGroup;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// An electricity distributor as the first two digits of an MPAN core name it: one of the fourteen area DNOs
/// (IDs 10 to 23, one per GSP group) or an independent distribution network operator (IDNO, IDs 24 and up).
/// </summary>
/// <remarks>
/// The table is market-rules.md §1.3, from limejump/mpan's distributor list. The IDNO list may be out of date:
/// an MPAN whose distributor ID is missing here fails to parse, so add new IDNOs to <see cref="Table"/>.
/// </remarks>
public sealed record Distributor
{
    private static readonly Distributor[] Table =
    [
        Dno(10, 'A', "EELC", "UK Power Networks"),
        Dno(11, 'B', "EMEB", "National Grid Electricity Distribution"),
        Dno(12, 'C', "LOND", "UK Power Networks"),
        Dno(13, 'D', "MANW", "SP Energy Networks"),
        Dno(14, 'E', "MIDE", "National Grid Electricity Distribution"),
        Dno(15, 'F', "NEEB", "Northern Powergrid"),
        Dno(16, 'G', "NORW", "Electricity North West"),
        Dno(17, 'P', "HYDE", "Scottish and Southern Electricity Networks"),
        Dno(18, 'N', "SPOW", "SP Energy Networks"),
        Dno(19, 'J', "SEEB", "UK Power Networks"),
        Dno(20, 'H', "SOUT", "Scottish and Southern Electricity Networks"),
        Dno(21, 'K', "SWAE", "National Grid Electricity Distribution"),
        Dno(22, 'L', "SWEB", "National Grid Electricity Distribution"),
        Dno(23, 'M', "YELG", "Northern Powergrid"),
        Idno(24, "IPNL", "Envoy / IPNL"),
        Idno(25, "LENG", "ESP"),
        Idno(26, "GUCL", "Last Mile"),
        Idno(27, "ETCL", "GTC"),
        Idno(28, "EDFI", "UKPN IDNO"),
        Idno(29, "HARL", "Harlaxton"),
        Idno(30, "PENL", "Leep"),
        Idno(31, "UKPD", "UK Power Distribution"),
        Idno(32, "UDNL", "Energy Assets"),
        Idno(33, "GGEN", "Eclipse"),
        Idno(34, "MPDL", "Murphy"),
        Idno(35, "FEAL", "Fulcrum"),
        Idno(36, "VATT", "Vattenfall"),
    ];

    private static readonly FrozenDictionary<int, Distributor> ById = Table.ToFrozenDictionary(d => d.Id);

    private Distributor(int id, GspGroup? gspGroup, string mpasId, string operatorName, bool isIdno)
    {
        Id = id;
        GspGroup = gspGroup;
        MpasId = mpasId;
        OperatorName = operatorName;
        IsIdno = isIdno;
    }

    /// <summary>Every known distributor, DNOs first, in ID order.</summary>
    public static IReadOnlyList<Distributor> All { get; } = Array.AsReadOnly(Table);

    /// <summary>The two-digit distributor ID that starts an MPAN core, e.g. 13.</summary>
    public int Id { get; }

    /// <summary>The DNO's GSP group; null for an IDNO, whose networks sit inside the DNO areas.</summary>
    public GspGroup? GspGroup { get; }

    /// <summary>The DNO's area, e.g. <c>Merseyside &amp; N. Wales</c>; null for an IDNO.</summary>
    public string? AreaName => GspGroup?.AreaName;

    /// <summary>The four-letter MPAS (registration system) ID, e.g. <c>MANW</c>.</summary>
    public string MpasId { get; }

    /// <summary>The current operator, e.g. <c>SP Energy Networks</c>; for an IDNO, the name in the industry list.</summary>
    public string OperatorName { get; }

    /// <summary>True for an independent distribution network operator (IDs 24 and up).</summary>
    public bool IsIdno { get; }

    /// <summary>The distributor with this ID.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No distributor in the table has this ID.</exception>
    public static Distributor FromId(int id) =>
        TryFromId(id, out var distributor)
            ? distributor
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"{id} is not a known distributor ID");

    public static bool TryFromId(int id, [NotNullWhen(true)] out Distributor? distributor) => ById.TryGetValue(id, out distributor);

    /// <summary>The DNO whose area is this GSP group.</summary>
    public static Distributor ForGspGroup(GspGroup group) =>
        Array.Find(Table, d => d.GspGroup == group)
        ?? throw new ArgumentException("default(GspGroup) is not a GSP group", nameof(group));

    /// <summary>The ID and operator, e.g. <c>13 SP Energy Networks</c>.</summary>
    public override string ToString() => $"{Id} {OperatorName}";

    private static Distributor Dno(int id, char gspLetter, string mpasId, string operatorName) =>
        new(id, Group.Parse($"_{gspLetter}"), mpasId, operatorName, isIdno: false);

    private static Distributor Idno(int id, string mpasId, string operatorName) =>
        new(id, null, mpasId, operatorName, isIdno: true);
}
