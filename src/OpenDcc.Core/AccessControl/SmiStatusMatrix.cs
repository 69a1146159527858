using System.Collections.Frozen;
using System.Reflection;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.AccessControl;

/// <summary>
/// Which SMI statuses the device a service request acts on may have: E5 ("Device SMI status incompatible with the
/// Service Reference") otherwise. A table by service reference variant with a default row (<c>*</c>); the one
/// OpenDcc ships (<c>smi-status-matrix.tsv</c>) is OpenDcc's choice, since DUIS's own matrix is not sourced, and an
/// installation may load its own (<see cref="Parse"/>).
/// </summary>
public sealed class SmiStatusMatrix
{
    private readonly FrozenDictionary<string, SmiStatusSet> rows;
    private readonly SmiStatusSet fallback;

    private SmiStatusMatrix(FrozenDictionary<string, SmiStatusSet> rows, SmiStatusSet fallback)
    {
        this.rows = rows;
        this.fallback = fallback;
    }

    /// <summary>The matrix OpenDcc ships.</summary>
    public static SmiStatusMatrix Default { get; } = Load();

    /// <summary>Whether a request of this SRV may act on a device in this status.</summary>
    public bool Allows(string serviceReferenceVariant, SmiStatus status) => StatusesFor(serviceReferenceVariant).Contains(status);

    /// <summary>The statuses a device may have for this SRV: its own row, else the default row.</summary>
    public SmiStatusSet StatusesFor(string serviceReferenceVariant)
    {
        ArgumentNullException.ThrowIfNull(serviceReferenceVariant);
        return rows.GetValueOrDefault(serviceReferenceVariant, fallback);
    }

    /// <summary>
    /// Reads a matrix: lines of <c>SRV &lt;TAB&gt; Status,Status…</c>, one of them for <c>*</c> (every SRV without a row
    /// of its own); blank lines and lines starting with <c>#</c> are skipped; statuses read as
    /// <see cref="SmiStatuses.TryParse(string?, out SmiStatus)"/> does.
    /// </summary>
    /// <exception cref="FormatException">an unknown SRV or status, a repeated SRV, or no <c>*</c> row; names the line.</exception>
    public static SmiStatusMatrix Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var rows = new Dictionary<string, SmiStatusSet>(StringComparer.Ordinal);
        SmiStatusSet? fallback = null;
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#'))
            {
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length != 2)
            {
                throw new FormatException($"line {number}: expected an SRV, a tab and its statuses, got '{line}'");
            }
            var srv = fields[0].Trim();
            var statuses = new List<SmiStatus>();
            foreach (var text in fields[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                statuses.Add(SmiStatuses.TryParse(text, out var status, out var error) ? status : throw new FormatException($"line {number}: {error}"));
            }
            var set = new SmiStatusSet(statuses);
            if (srv == "*")
            {
                fallback = fallback is null ? set : throw new FormatException($"line {number}: a second * row");
                continue;
            }
            if (!ServiceCatalogue.Duis.TryGet(srv, out _))
            {
                throw new FormatException($"line {number}: '{srv}' is not a DUIS service reference variant");
            }
            if (!rows.TryAdd(srv, set))
            {
                throw new FormatException($"line {number}: a second row for {srv}");
            }
        }
        return new SmiStatusMatrix(rows.ToFrozenDictionary(StringComparer.Ordinal), fallback ?? throw new FormatException("the matrix has no * row (the statuses for every other SRV)"));
    }

    private static SmiStatusMatrix Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenDcc.Core.AccessControl.smi-status-matrix.tsv")
            ?? throw new InvalidOperationException("the SMI status matrix is not embedded");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')));
    }
}

/// <summary>A set of SMI statuses, small enough for a bit mask.</summary>
public readonly record struct SmiStatusSet
{
    private readonly int bits;

    public SmiStatusSet(IEnumerable<SmiStatus> statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        foreach (var status in statuses)
        {
            bits |= 1 << (int)status;
        }
    }

    public bool Contains(SmiStatus status) => (bits & (1 << (int)status)) != 0;

    public IEnumerable<SmiStatus> Statuses => SmiStatuses.All.Where(Contains);

    public override string ToString() => string.Join(", ", Statuses);
}
