using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Translation;

/// <summary>
/// Which adapter translates for which device model: configured per model, with a default adapter for models not
/// named. Only adapters registered here are ever used.
/// </summary>
public sealed class TranslationAdapters
{
    private readonly Dictionary<string, ITranslationAdapter> byName;
    private readonly Dictionary<string, ITranslationAdapter> byModel;
    private readonly ITranslationAdapter fallback;

    /// <param name="models">Device model → adapter name.</param>
    /// <param name="defaultAdapter">The adapter name for models not in <paramref name="models"/>.</param>
    /// <exception cref="ArgumentException">a name refers to no adapter, or two adapters share a name.</exception>
    public TranslationAdapters(IEnumerable<ITranslationAdapter> adapters, IReadOnlyDictionary<string, string> models, string defaultAdapter)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(models);
        byName = [];
        foreach (var adapter in adapters)
        {
            if (!byName.TryAdd(adapter.Name, adapter))
            {
                throw new ArgumentException($"two adapters are named '{adapter.Name}'", nameof(adapters));
            }
        }
        fallback = Named(defaultAdapter, nameof(defaultAdapter));
        byModel = models.ToDictionary(m => m.Key, m => Named(m.Value, nameof(models)), StringComparer.OrdinalIgnoreCase);
    }

    public ITranslationAdapter For(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Model is { } model && byModel.TryGetValue(model, out var adapter) ? adapter : fallback;
    }

    public ITranslationAdapter Named(string name) => Named(name, nameof(name));

    private ITranslationAdapter Named(string name, string parameter) =>
        byName.TryGetValue(name, out var adapter) ? adapter : throw new ArgumentException($"no adapter is named '{name}' (known: {string.Join(", ", byName.Keys)})", parameter);
}
