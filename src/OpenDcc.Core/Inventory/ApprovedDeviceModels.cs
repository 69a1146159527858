namespace OpenDcc.Core.Inventory;

/// <summary>
/// Reads lists of approved device models: a CSV with the header <c>manufacturer,model</c>, one model per line (what
/// <c>opendcc inventory models import</c> and <c>serve --approved-models</c> take).
/// </summary>
public static class ApprovedDeviceModels
{
    /// <exception cref="FormatException">the header is not that, or a line lacks a field; names the line.</exception>
    public static IReadOnlyList<ApprovedModel> Parse(TextReader csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var models = new List<ApprovedModel>();
        var headerSeen = false;
        foreach (var (number, fields) in CsvRecords.Read(csv))
        {
            if (!headerSeen)
            {
                headerSeen = IsHeader(fields) ? true : throw new FormatException($"line {number}: the header must be manufacturer,model");
                continue;
            }
            if (fields.Length != 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new FormatException($"line {number}: expected a manufacturer and a model, got '{Excerpt.Of(string.Join(',', fields))}'");
            }
            try
            {
                models.Add(ApprovedModel.Given(fields[0], fields[1]));
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"line {number}: {e.Message}", e);
            }
        }
        return headerSeen ? models : throw new FormatException("is empty: the first line must be the header manufacturer,model");
    }

    private static bool IsHeader(string[] fields) =>
        fields is [var m, var d] && m.Equals("manufacturer", StringComparison.OrdinalIgnoreCase) && d.Equals("model", StringComparison.OrdinalIgnoreCase);
}
