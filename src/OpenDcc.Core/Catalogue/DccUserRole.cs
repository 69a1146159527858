namespace OpenDcc.Core.Catalogue;

/// <summary>
/// The seven SEC User Roles, as a flag set: a DCC user may hold several, and a service reference variant
/// is eligible for several. Abbreviations are those of the DUIS matrix (IS, ES, GS, ED, GT, RSA, OU).
/// </summary>
[Flags]
#pragma warning disable CA1711 // "Role" is the domain's word, not a flags-suffix accident.
public enum DccUserRole
#pragma warning restore CA1711
{
    None = 0,
    ImportSupplier = 1 << 0,
    ExportSupplier = 1 << 1,
    GasSupplier = 1 << 2,
    ElectricityDistributor = 1 << 3,
    GasTransporter = 1 << 4,
    RegisteredSupplierAgent = 1 << 5,
    OtherUser = 1 << 6,
}

public static class DccUserRoles
{
    private static readonly (DccUserRole Role, string Code)[] Table =
    [
        (DccUserRole.ImportSupplier, "IS"),
        (DccUserRole.ExportSupplier, "ES"),
        (DccUserRole.GasSupplier, "GS"),
        (DccUserRole.ElectricityDistributor, "ED"),
        (DccUserRole.GasTransporter, "GT"),
        (DccUserRole.RegisteredSupplierAgent, "RSA"),
        (DccUserRole.OtherUser, "OU"),
    ];

    /// <summary>Each single role, in the order the DUIS matrix lists them.</summary>
    public static IReadOnlyList<DccUserRole> All { get; } = [.. Table.Select(c => c.Role)];

    /// <summary>The DUIS abbreviation of one role, e.g. <c>IS</c>.</summary>
    public static string Code(this DccUserRole role)
    {
        foreach (var (r, code) in Table)
        {
            if (r == role)
            {
                return code;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(role), role, "not a single DCC user role");
    }

    /// <summary>The single roles in a set, in matrix order.</summary>
    public static IEnumerable<DccUserRole> Each(this DccUserRole roles) => All.Where(r => (roles & r) != 0);

    /// <summary>Whether the roles include a supplier's: IS, ES or GS.</summary>
    public static bool IsSupplier(this DccUserRole roles) => (roles & (DccUserRole.ImportSupplier | DccUserRole.ExportSupplier | DccUserRole.GasSupplier)) != 0;

    /// <summary>The abbreviations of a set joined by a separator, e.g. <c>IS, GS</c>.</summary>
    public static string Codes(this DccUserRole roles, string separator = ", ") =>
        string.Join(separator, roles.Each().Select(r => r.Code()));

    public static bool TryParse(string? code, out DccUserRole role)
    {
        foreach (var (r, c) in Table)
        {
            if (string.Equals(c, code?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                role = r;
                return true;
            }
        }
        role = DccUserRole.None;
        return false;
    }

    public static DccUserRole Parse(string code) =>
        TryParse(code, out var role)
            ? role
            : throw new FormatException($"unknown DCC user role '{code}'; expected one of {string.Join(", ", Table.Select(c => c.Code))}");
}
