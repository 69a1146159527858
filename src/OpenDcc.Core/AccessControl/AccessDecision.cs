using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.AccessControl;

/// <summary>The outcome of access control: allowed, or refused with the DUIS response code that says why.</summary>
public sealed record AccessDecision(ResponseCode? Refusal, string? Reason)
{
    public static AccessDecision Allowed { get; } = new(null, null);

    public bool IsAllowed => Refusal is null;

    public static AccessDecision Refuse(ResponseCode code, string reason) => new(code, reason);
}

/// <summary>What access control knows about the request's target.</summary>
/// <param name="Device">The target as the smart metering inventory holds it; null when it is not there (device requests only).</param>
/// <param name="StatusMatrix">The SMI statuses each SRV's device may have; <see cref="SmiStatusMatrix.Default"/> when null.</param>
public sealed record AccessContext(DccUser? User, DuisEndpoint Endpoint, Device? Device, SmiStatusMatrix? StatusMatrix = null);

/// <summary>
/// The authorisation decision for an authenticated DUIS request: a pure function of the request and what is known
/// about its sender and target. Checks, in order: user known (E1), user active (E3), role eligible for the SRV (E2),
/// command variant fits the request type (E12), command variant sent to its own endpoint (E13), device known (E19),
/// device's SMI status fits the SRV (E5, by the <see cref="SmiStatusMatrix"/>). The device relationship (E4) joins
/// with registration data; the device type (E11) is decided by the device's translation adapter. Non-device requests
/// that name a device in their body (8.3, 8.4, 8.14.x) are checked against the same matrix by their handler.
/// </summary>
public static class AccessControlPolicy
{
    public static AccessDecision Decide(DuisRequest request, AccessContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var variant = request.Variant;
        if (context.User is not { } user)
        {
            return AccessDecision.Refuse(ResponseCode.InvalidUserOrRole, $"{request.RequestId.Originator} is not a DCC user");
        }
        if (user.Status != DccUserStatus.Active)
        {
            return AccessDecision.Refuse(ResponseCode.UserStatusNotPermitted, $"DCC user {user.Id} is {user.Status}");
        }
        if (!variant.IsEligibleFor(user.Roles))
        {
            return AccessDecision.Refuse(ResponseCode.RoleNotPermitted, $"roles {user.Roles.Codes()} may not send {variant.Id} {variant.Name}");
        }
        if (!CommandVariantFits(variant, request.CommandVariant))
        {
            return AccessDecision.Refuse(ResponseCode.CommandVariantNotApplicable, $"command variant {request.CommandVariant} does not apply to {Kind(variant)} SRV {variant.Id}");
        }
        CommandVariant.TryGet(request.CommandVariant, out var cv);
        if (cv.Endpoint != context.Endpoint)
        {
            return AccessDecision.Refuse(ResponseCode.RequestTypeNotValidForUrl, $"command variant {cv.Number} belongs at {CommandVariant.PathOf(cv.Endpoint)}, not {CommandVariant.PathOf(context.Endpoint)}");
        }
        if (!variant.IsNonDevice)
        {
            if (context.Device is not { } device)
            {
                return AccessDecision.Refuse(ResponseCode.DeviceDoesNotExist, $"device {request.RequestId.Target} is not in the smart metering inventory");
            }
            var statuses = (context.StatusMatrix ?? SmiStatusMatrix.Default).StatusesFor(variant.Id);
            if (!statuses.Contains(device.Status))
            {
                return AccessDecision.Refuse(ResponseCode.DeviceStatusIncompatible, $"device {device.Id} is {device.Status}; {variant.Id} needs it {statuses}");
            }
        }
        return AccessDecision.Allowed;
    }

    /// <summary>
    /// Non-device SRVs use CV 8; non-critical device SRVs CV 1–3; critical ones go through Transform (CV 4) and come back
    /// signed (CV 5–7). Source: DUIS XSD CommandVariant table (duis-and-dcc.md §1.4).
    /// </summary>
    public static bool CommandVariantFits(ServiceReferenceVariant variant, int commandVariant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return variant switch
        {
            { IsNonDevice: true } => commandVariant == 8,
            { IsCritical: true } => commandVariant is >= 4 and <= 7,
            _ => commandVariant is >= 1 and <= 3,
        };
    }

    private static string Kind(ServiceReferenceVariant v) => v.IsNonDevice ? "non-device" : v.IsCritical ? "critical" : "non-critical device";
}
