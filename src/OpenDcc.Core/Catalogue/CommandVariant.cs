namespace OpenDcc.Core.Catalogue;

/// <summary>The three DCC Boxed web services a request can be POSTed to.</summary>
public enum DuisEndpoint
{
    /// <summary><c>/api/v1/serviceS</c>: commands sent to devices over the SM WAN.</summary>
    SendCommand,

    /// <summary><c>/api/v1/serviceT</c>: Transform, returning a Pre-Command for the user to sign.</summary>
    Transform,

    /// <summary><c>/api/v1/serviceD</c>: non-device requests and commands for local delivery.</summary>
    NonDevice,
}

/// <summary>
/// A DUIS command variant (processing mode). Source: the DUIS XSD <c>CommandVariant</c> comment table,
/// shared/domain/duis-and-dcc.md §1.4. Variant 9 is internal to the DCC and is not accepted from users.
/// </summary>
public sealed record CommandVariant(
    int Number,
    string Description,
    bool TakesSignedPreCommand,
    bool RespondsSynchronously,
    bool RespondsAsynchronously,
    DuisEndpoint Endpoint)
{
    public static IReadOnlyList<CommandVariant> All { get; } =
    [
        new(1, "Service Request to Command via SM WAN", false, false, true, DuisEndpoint.SendCommand),
        new(2, "Service Request to Command for Local Delivery", false, true, false, DuisEndpoint.NonDevice),
        new(3, "Service Request to Command via SM WAN and for Local Delivery", false, true, true, DuisEndpoint.SendCommand),
        new(4, "Service Request to Pre-Command (Transform)", false, true, false, DuisEndpoint.Transform),
        new(5, "Signed Pre-Command to Command via SM WAN", true, false, true, DuisEndpoint.SendCommand),
        new(6, "Signed Pre-Command to Command for Local Delivery", true, true, false, DuisEndpoint.NonDevice),
        new(7, "Signed Pre-Command to Command via SM WAN and for Local Delivery", true, true, true, DuisEndpoint.SendCommand),
        new(8, "Non-Device Service Request to Service Response from DCC", false, true, false, DuisEndpoint.NonDevice),
    ];

    public static bool TryGet(int number, out CommandVariant variant)
    {
        variant = All.FirstOrDefault(v => v.Number == number)!;
        return variant is not null;
    }

    public static string PathOf(DuisEndpoint endpoint) => endpoint switch
    {
        DuisEndpoint.SendCommand => "/api/v1/serviceS",
        DuisEndpoint.Transform => "/api/v1/serviceT",
        DuisEndpoint.NonDevice => "/api/v1/serviceD",
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };
}
