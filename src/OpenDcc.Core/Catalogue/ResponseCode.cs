namespace OpenDcc.Core.Catalogue;

public enum ResponseCodeKind
{
    Informational,
    Error,
    Warning,
}

/// <summary>
/// A DUIS response code with its meaning, as far as it is known. Source: shared/domain/duis-and-dcc.md §1.5
/// (a third-party copy of the DUIS table; meanings past E30 are unconfirmed and not listed).
/// </summary>
public sealed record ResponseCode(string Code, string Meaning)
{
    public ResponseCodeKind Kind => Code[0] switch
    {
        'I' => ResponseCodeKind.Informational,
        'W' => ResponseCodeKind.Warning,
        _ => ResponseCodeKind.Error,
    };

    public static ResponseCode Success { get; } = new("I0", "Success");
    public static ResponseCode Acknowledged { get; } = new("I99", "Acknowledgement: request accepted for sending to the device and passed access control");
    public static ResponseCode InvalidUserOrRole { get; } = new("E1", "Failed authorisation: invalid User / User Role");
    public static ResponseCode RoleNotPermitted { get; } = new("E2", "User Role not permitted to send this Service Reference");
    public static ResponseCode UserStatusNotPermitted { get; } = new("E3", "User status not permitted to send this Service Reference");
    public static ResponseCode RoleNotAuthorisedForDevice { get; } = new("E4", "User Role not authorised for this Device at the required date/time");
    public static ResponseCode DeviceStatusIncompatible { get; } = new("E5", "Device SMI status incompatible with the Service Reference");
    public static ResponseCode DeviceTypeIncompatible { get; } = new("E11", "Service Request not compatible with the device type");
    public static ResponseCode CommandVariantNotApplicable { get; } = new("E12", "Command Variant not applicable to the request type");
    public static ResponseCode RequestTypeNotValidForUrl { get; } = new("E13", "Request type not valid for the URL");
    public static ResponseCode LocalCommandNotAvailable { get; } = new("E17", "Service Request / Signed Pre-Command not available for local command services");
    public static ResponseCode DeviceDoesNotExist { get; } = new("E19", "Device does not exist");
    public static ResponseCode UnableToCommunicate { get; } = new("E20", "Unable to communicate with device");
    public static ResponseCode NoResponseFromDevice { get; } = new("E21", "No response received from device");
    public static ResponseCode FutureDatedTimeout { get; } = new("E30", "Time-out of a future-dated command");

    public static IReadOnlyList<ResponseCode> Known { get; } =
    [
        Success, Acknowledged, InvalidUserOrRole, RoleNotPermitted, UserStatusNotPermitted, RoleNotAuthorisedForDevice,
        DeviceStatusIncompatible, DeviceTypeIncompatible, CommandVariantNotApplicable, RequestTypeNotValidForUrl,
        LocalCommandNotAvailable, DeviceDoesNotExist, UnableToCommunicate, NoResponseFromDevice, FutureDatedTimeout,
    ];

    public override string ToString() => Code;
}
