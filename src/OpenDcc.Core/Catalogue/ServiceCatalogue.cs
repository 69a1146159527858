using System.Collections.Frozen;
using System.Reflection;

namespace OpenDcc.Core.Catalogue;

/// <summary>
/// The DUIS service catalogue: all service reference variants, loaded once from the data file
/// <c>service-reference-variants.tsv</c> that OpenDcc owns (transcribed from the DUIS matrix).
/// </summary>
public sealed class ServiceCatalogue
{
    private readonly FrozenDictionary<string, ServiceReferenceVariant> byId;

    public ServiceCatalogue(IEnumerable<ServiceReferenceVariant> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        Variants = [.. variants];
        byId = Variants.ToFrozenDictionary(v => v.Id, StringComparer.Ordinal);
    }

    public static ServiceCatalogue Duis { get; } = LoadEmbedded();

    /// <summary>Every variant in catalogue order (1.1.1 … 14.1).</summary>
    public IReadOnlyList<ServiceReferenceVariant> Variants { get; }

    public bool TryGet(string id, out ServiceReferenceVariant variant) => byId.TryGetValue(id, out variant!);

    public ServiceReferenceVariant this[string id] =>
        byId.TryGetValue(id, out var v) ? v : throw new KeyNotFoundException($"no service reference variant '{id}' in the DUIS catalogue");

    public IEnumerable<ServiceReferenceVariant> EligibleFor(DccUserRole role) => Variants.Where(v => v.IsEligibleFor(role));

    private static ServiceCatalogue LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("OpenDcc.Core.Catalogue.service-reference-variants.tsv")
            ?? throw new InvalidOperationException("the service catalogue resource is missing from OpenDcc.Core");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }

    /// <summary>Reads the tab-separated catalogue format; lines starting with '#' are comments.</summary>
    public static ServiceCatalogue Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var variants = new List<ServiceReferenceVariant>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var f = line.Split('\t');
            if (f.Length != 8)
            {
                throw new FormatException($"catalogue line {lineNumber}: expected 8 tab-separated fields, found {f.Length}");
            }
            var id = f[0];
            if (variants.Any(v => v.Id == id))
            {
                throw new FormatException($"catalogue line {lineNumber}: service reference variant {id} appears twice");
            }
            var parts = id.Split('.');
            var serviceReference = parts.Length == 3 ? $"{parts[0]}.{parts[1]}" : id;
            var roles = f[6].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Aggregate(DccUserRole.None, (acc, code) => acc | Role(code, lineNumber));
            variants.Add(new ServiceReferenceVariant(
                id,
                f[1],
                serviceReference,
                Flag(f[2], lineNumber),
                Pattern(f[3], lineNumber),
                Flag(f[4], lineNumber),
                Flag(f[5], lineNumber),
                roles,
                f[7]));
        }
        return new ServiceCatalogue(variants);
    }

    private static DccUserRole Role(string code, int line) =>
        DccUserRoles.TryParse(code, out var role)
            ? role
            : throw new FormatException($"catalogue line {line}: unknown DCC user role '{code}'");

    // By name only: Enum.Parse would also take a number such as "7" and yield an undefined pattern.
    private static FutureDatedResponsePattern Pattern(string value, int line) =>
        Enum.GetNames<FutureDatedResponsePattern>().Contains(value, StringComparer.Ordinal)
            ? Enum.Parse<FutureDatedResponsePattern>(value)
            : throw new FormatException($"catalogue line {line}: future-dated pattern must be one of {string.Join(", ", Enum.GetNames<FutureDatedResponsePattern>())}, not '{value}'");

    private static bool Flag(string value, int line) => value switch
    {
        "Y" => true,
        "N" => false,
        _ => throw new FormatException($"catalogue line {line}: flag must be Y or N, not '{value}'"),
    };
}
