namespace OpenDcc.Core.Inventory;

/// <summary>
/// A device model that complies with the approved technical specification (in GB, the Central Products List), by its
/// DUIS manufacturer and model identifiers, kept in upper case: DUIS identifiers are hex and compare without case.
/// </summary>
public sealed record ApprovedModel
{
    public ApprovedModel(string manufacturer, string model)
    {
        Manufacturer = Normalise(manufacturer, nameof(manufacturer));
        Model = Normalise(model, nameof(model));
    }

    /// <summary>
    /// A model as a person or a file gives it: also refused when it holds a control character (<see cref="FreeText"/>),
    /// which the constructor, reading what the store kept, does not check.
    /// </summary>
    /// <exception cref="ArgumentException">naming the parameter at fault, <c>manufacturer</c> or <c>model</c>.</exception>
    public static ApprovedModel Given(string manufacturer, string model) =>
        new(FreeText.Checked(manufacturer, "a device manufacturer", 30, nameof(manufacturer)), FreeText.Checked(model, "a device model", 30, nameof(model)));

    public string Manufacturer { get; }

    public string Model { get; }

    public override string ToString() => $"{Manufacturer}/{Model}";

    private static string Normalise(string value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        var trimmed = value.Trim().ToUpperInvariant();
        return trimmed.Length is > 0 and <= 30
            ? trimmed
            : throw new ArgumentException($"a device {name} is 1 to 30 characters, not '{value}'", name);
    }
}

/// <summary>
/// The approved device models, kept in the store: only these may be pre-notified (12.2), given as a device's model
/// (8.4) or adopted (inventory import). While the list is empty every model is accepted — a test installation.
/// </summary>
public interface IApprovedModelStore
{
    /// <summary>Adds the models not yet on the list.</summary>
    /// <returns>How many were new.</returns>
    Task<int> AddApprovedModelsAsync(IReadOnlyCollection<ApprovedModel> models, CancellationToken cancellationToken = default);

    /// <summary>Every approved model, by manufacturer then model.</summary>
    Task<IReadOnlyList<ApprovedModel>> ListApprovedModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether a model may join the inventory: it is on the list, or the list is empty.</summary>
    Task<bool> IsApprovedAsync(ApprovedModel model, CancellationToken cancellationToken = default);
}
