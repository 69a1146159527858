namespace OpenDcc.Core.Inventory;

/// <summary>
/// The device models that comply with the approved technical specification (in GB, the Central Products List): only
/// these may be pre-notified and so join the inventory. Keyed by the DUIS manufacturer and model identifiers.
/// </summary>
public sealed class ApprovedDeviceModels
{
    private readonly HashSet<(string Manufacturer, string Model)>? approved;

    private ApprovedDeviceModels(HashSet<(string, string)>? approved) => this.approved = approved;

    /// <summary>No list configured: every model is accepted (a test installation).</summary>
    public static ApprovedDeviceModels Any { get; } = new(null);

    public bool IsRestricted => approved is not null;

    public static ApprovedDeviceModels Of(IEnumerable<(string Manufacturer, string Model)> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        return new([.. models.Select(m => (m.Manufacturer.Trim().ToUpperInvariant(), m.Model.Trim().ToUpperInvariant()))]);
    }

    /// <summary>Reads a CSV with the header <c>manufacturer,model</c>, one approved model per line.</summary>
    /// <exception cref="FormatException">the header is not that, or a line lacks a field; names the line.</exception>
    public static ApprovedDeviceModels Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var models = new List<(string, string)>();
        var number = 0;
        var headerSeen = false;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var fields = line.Split(',').Select(f => f.Trim().Trim('"').Trim()).ToArray();
            if (!headerSeen)
            {
                headerSeen = IsHeader(fields) ? true : throw new FormatException($"line {number}: the header must be manufacturer,model");
                continue;
            }
            if (fields.Length != 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new FormatException($"line {number}: expected a manufacturer and a model, got '{line}'");
            }
            models.Add((fields[0], fields[1]));
        }
        return Of(models);
    }

    public bool IsApproved(string manufacturer, string model)
    {
        ArgumentNullException.ThrowIfNull(manufacturer);
        ArgumentNullException.ThrowIfNull(model);
        return approved is null || approved.Contains((manufacturer.Trim().ToUpperInvariant(), model.Trim().ToUpperInvariant()));
    }

    private static bool IsHeader(string[] fields) =>
        fields is [var m, var d] && m.Equals("manufacturer", StringComparison.OrdinalIgnoreCase) && d.Equals("model", StringComparison.OrdinalIgnoreCase);
}
