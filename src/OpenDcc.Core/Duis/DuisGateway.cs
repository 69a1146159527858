using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml;
using NodaTime;
using OpenDcc.Core.AccessControl;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Duis;

/// <summary>What goes back over HTTP for one request.</summary>
public sealed record GatewayReply(int StatusCode, string ContentType, byte[] Body, string Outcome);

/// <summary>Takes an accepted device request onwards to its device; the device's response goes to the user later.</summary>
public interface IDeviceRequestHandler
{
    /// <returns>Null when the request is on its way (the user gets I99 now); otherwise the DUIS code and the reason it cannot go (for example E11: no adapter of the device carries this SRV).</returns>
    Task<DeviceRefusal?> SubmitAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default);

    /// <summary>Transform (CV 4) of a critical request: the pre-command the device's adapter builds for the user to sign, or why there is none.</summary>
    Task<CriticalCommandResult> TransformAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default);
}

/// <summary>Why a device request was not sent on.</summary>
public sealed record DeviceRefusal(string Code, string Reason);

/// <summary>
/// The DUIS gateway (ARCHITECTURE §4 steps 1–3): reads a signed service request, checks its XML signature against the
/// originator's registered XmlSign certificate, its counter against replay, and access control; answers with a
/// DSP-signed DUIS response (I99 for device requests, the real body for the inventory's non-device ones
/// (<see cref="InventoryServiceRequests"/>), a Pre-Command for
/// Transform), hands accepted device requests on, and logs the request and the response in the message log.
/// </summary>
public sealed class DuisGateway(
    ServiceCatalogue catalogue,
    IPartyStore parties,
    IInventoryStore inventory,
    IReplayGuard replay,
    IDeviceRequestHandler devices,
    MessageLogWriter log,
    DuisMessageSecurity signer,
    IClock clock,
    IApprovedModelStore approvedModels,
    GatewayResponseCodes? codes = null,
    SmiStatusMatrix? statusMatrix = null)
{
    private readonly GatewayResponseCodes codes = codes ?? GatewayResponseCodes.Default;
    private readonly SmiStatusMatrix statusMatrix = statusMatrix ?? SmiStatusMatrix.Default;
    private readonly InventoryServiceRequests inventoryRequests = new(inventory, approvedModels, clock, codes ?? GatewayResponseCodes.Default, statusMatrix ?? SmiStatusMatrix.Default);

    public async Task<GatewayReply> HandleAsync(DuisEndpoint endpoint, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var received = clock.GetCurrentInstant();
        XmlDocument document;
        try
        {
            document = DuisSignature.Load(message);
        }
        catch (XmlException e)
        {
            return await ProblemAsync(received, message, null, "MalformedXml", $"the request is not well-formed XML: {e.Message}", cancellationToken);
        }
        if (!DuisRequestReader.TryRead(document, catalogue, out var request, out var failure))
        {
            if (failure.Variant is null)
            {
                return await ProblemAsync(received, message, failure.RequestId, "NotADuisRequest", failure.Reason, cancellationToken);
            }
            return await RespondAsync(received, message, failure.RequestId?.Originator, DuisResponse.Unreadable(failure, codes.InvalidRequest, clock.GetCurrentInstant()), $"{codes.InvalidRequest} InvalidRequest: {failure.Reason}", cancellationToken);
        }

        var authentication = await signer.VerifyAsync(document, request.RequestId.Originator, cancellationToken);
        if (authentication is not null)
        {
            return await RespondAsync(received, message, request.RequestId.Originator, DuisResponse.For(request, codes.AuthenticationFailure, clock.GetCurrentInstant()), $"{codes.AuthenticationFailure} AuthenticationFailure: {authentication}", cancellationToken);
        }

        var verdict = await replay.AcceptAsync(request.RequestId, cancellationToken);
        if (!verdict.Accepted)
        {
            return await RespondAsync(received, message, request.RequestId.Originator, DuisResponse.For(request, codes.Replay, clock.GetCurrentInstant()),
                $"{codes.Replay} Replay: counter {request.RequestId.Counter} is not greater than {verdict.LastAccepted}", cancellationToken);
        }

        var user = await parties.FindUserAsync(request.RequestId.Originator, cancellationToken);
        var device = request.IsNonDevice ? null : await inventory.FindDeviceAsync(request.RequestId.Target, cancellationToken);
        var decision = AccessControlPolicy.Decide(request, new AccessContext(user, endpoint, device, statusMatrix));
        if (!decision.IsAllowed)
        {
            return await RespondAsync(received, message, request.RequestId.Originator, DuisResponse.For(request, decision.Refusal!.Code, clock.GetCurrentInstant()), $"{decision.Refusal.Code} {decision.Reason}", cancellationToken);
        }

        if (request.Variant.Id == FirmwareDistribution)
        {
            return await DistributeFirmwareAsync(received, message, request, user!, cancellationToken);
        }
        if (request.IsNonDevice)
        {
            var (response, outcome) = InventoryServiceRequests.Handles(request.Variant.Id)
                ? await inventoryRequests.HandleAsync(request, user!, cancellationToken)
                : (DuisResponse.For(request, codes.NotYetAvailable, clock.GetCurrentInstant()), $"{codes.NotYetAvailable} non-device service {request.Variant.Id} {request.Variant.Name} is not available yet");
            return await RespondAsync(received, message, user!.Id, response, outcome, cancellationToken);
        }
        if (request.Variant.Id == Commissioning && await CommissioningRefusalAsync(device!, cancellationToken) is { } notApproved)
        {
            return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, codes.CommissionedModelNotApproved, clock.GetCurrentInstant()), $"{codes.CommissionedModelNotApproved} {notApproved}", cancellationToken);
        }
        switch (request.CommandVariant)
        {
            case 4:
                // Transform: the command the device will execute, in its own format, for the user to sign (GBCS Pre-Command).
                var transformed = await devices.TransformAsync(request, user!, device!, cancellationToken);
                if (transformed.Refusal is { } notTransformed)
                {
                    return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, notTransformed.Code, clock.GetCurrentInstant()), $"{notTransformed.Code} {notTransformed.Reason}", cancellationToken);
                }
                var preCommand = new ResponsePayload.PreCommand(transformed.Format!, transformed.Bytes!);
                return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), preCommand), "I0 PreCommand", cancellationToken);
            case 1 or 5:
                // Queued for its device first: a request no adapter can carry, or a signed pre-command that fails its
                // checks, is refused now rather than acknowledged.
                if (await devices.SubmitAsync(request, user!, device!, cancellationToken) is { } refusal)
                {
                    return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, refusal.Code, clock.GetCurrentInstant()), $"{refusal.Code} {refusal.Reason}", cancellationToken);
                }
                return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, ResponseCode.Acknowledged.Code, clock.GetCurrentInstant()), "I99", cancellationToken);
            default:
                // CV 2, 3, 6, 7 include delivery of a command to the user for local delivery, which OpenDcc does not produce yet.
                return await RespondAsync(received, message, user!.Id, DuisResponse.For(request, ResponseCode.LocalCommandNotAvailable.Code, clock.GetCurrentInstant()),
                    $"{ResponseCode.LocalCommandNotAvailable.Code} command variant {request.CommandVariant} needs a local command", cancellationToken);
        }
    }


    /// <summary>8.1.1 Commission Device: critical, so it comes as Transform (CV 4) and then as a Signed Pre-Command (CV 5).</summary>
    private const string Commissioning = "8.1.1";

    /// <summary>
    /// Only a device of an approved model may be commissioned (the issue's "approved technical specification"):
    /// checked at Transform and again when the signed command comes back, against the store's approved list as it is
    /// now. Null when the device may be commissioned; otherwise why not.
    /// </summary>
    private async Task<string?> CommissioningRefusalAsync(Device device, CancellationToken cancellationToken)
    {
        if (device.Manufacturer is { } manufacturer && device.Model is { } model)
        {
            var approved = new ApprovedModel(manufacturer, model);
            return await approvedModels.IsApprovedAsync(approved, cancellationToken) ? null : $"device {device.Id}'s model {approved} is not on the approved list: it may not be commissioned";
        }
        // An empty list approves every model (a test installation); otherwise a model not known cannot be shown approved.
        return (await approvedModels.ListApprovedModelsAsync(cancellationToken)).Count == 0
            ? null
            : $"device {device.Id}'s manufacturer and model are not known, so it cannot be shown to be an approved model: it may not be commissioned";
    }

    /// <summary>11.1 Update Firmware: a non-device request (CV 8, to the DCC) naming the devices to update in its body.</summary>
    private const string FirmwareDistribution = "11.1";

    /// <summary>
    /// 11.1 Update Firmware: the DCC distributes the image to each device in the body's DeviceIDList over the SM WAN;
    /// each device's answer reaches the user as an asynchronous response to this request. Every listed device must be
    /// in the inventory (E19 otherwise, nothing sent) and in a status the SRV × SMI status matrix allows for 11.1 (E5
    /// otherwise, naming the devices, nothing sent); one the device side refuses gets its code, naming those already
    /// queued.
    /// </summary>
    private async Task<GatewayReply> DistributeFirmwareAsync(Instant received, ReadOnlyMemory<byte> message, DuisRequest request, DccUser user, CancellationToken cancellationToken)
    {
        var listed = request.Body.Elements(DuisNamespaces.Sr + "DeviceIDList").Select(e => e.Value.Trim()).ToList();
        var ids = new List<Eui64>();
        foreach (var text in listed)
        {
            if (!Eui64.TryParse(text, out var id))
            {
                return await RespondAsync(received, message, user.Id, DuisResponse.For(request, codes.InvalidRequest, clock.GetCurrentInstant()), $"{codes.InvalidRequest} 11.1 DeviceIDList: '{text}' is not an EUI-64", cancellationToken);
            }
            ids.Add(id);
        }
        if (ids.Count == 0)
        {
            return await RespondAsync(received, message, user.Id, DuisResponse.For(request, codes.InvalidRequest, clock.GetCurrentInstant()), $"{codes.InvalidRequest} 11.1 names no device in DeviceIDList", cancellationToken);
        }
        var found = await inventory.FindDevicesAsync(ids, cancellationToken);
        if (ids.Distinct().Where(id => found.All(d => d.Id != id)).ToList() is { Count: > 0 } unknown)
        {
            return await RespondAsync(received, message, user.Id, DuisResponse.For(request, ResponseCode.DeviceDoesNotExist.Code, clock.GetCurrentInstant()),
                $"{ResponseCode.DeviceDoesNotExist.Code} not in the smart metering inventory: {string.Join(", ", unknown)}", cancellationToken);
        }
        if (found.Where(d => !statusMatrix.Allows(FirmwareDistribution, d.Status)).ToList() is { Count: > 0 } unfit)
        {
            return await RespondAsync(received, message, user.Id, DuisResponse.For(request, ResponseCode.DeviceStatusIncompatible.Code, clock.GetCurrentInstant()),
                $"{ResponseCode.DeviceStatusIncompatible.Code} {FirmwareDistribution} needs devices {statusMatrix.StatusesFor(FirmwareDistribution)}: {string.Join(", ", unfit.Select(d => $"{d.Id} is {d.Status}"))}", cancellationToken);
        }
        var queued = new List<Eui64>();
        foreach (var device in found)
        {
            if (await devices.SubmitAsync(request, user, device, cancellationToken) is { } refusal)
            {
                return await RespondAsync(received, message, user.Id, DuisResponse.For(request, refusal.Code, clock.GetCurrentInstant()),
                    $"{refusal.Code} {device.Id}: {refusal.Reason}{(queued.Count > 0 ? $" (already queued: {string.Join(", ", queued)})" : "")}", cancellationToken);
            }
            queued.Add(device.Id);
        }
        return await RespondAsync(received, message, user.Id, DuisResponse.For(request, ResponseCode.Acknowledged.Code, clock.GetCurrentInstant()), $"I99 firmware to {string.Join(", ", queued)}", cancellationToken);
    }

    private async Task<GatewayReply> RespondAsync(Instant received, ReadOnlyMemory<byte> message, Eui64? user, DuisResponse response, string outcome, CancellationToken cancellationToken)
    {
        var signed = signer.Sign(response);
        var correlation = response.RequestId?.ToString();
        await log.AppendAsync(
        [
            new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, outcome, message),
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, response.ResponseCode, signed),
        ], cancellationToken);
        return new GatewayReply(200, "application/xml", signed, outcome);
    }

    private async Task<GatewayReply> ProblemAsync(Instant received, ReadOnlyMemory<byte> message, RequestId? requestId, string kind, string detail, CancellationToken cancellationToken)
    {
        var problem = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["type"] = "about:blank",
            ["title"] = "Not a readable DUIS service request",
            ["status"] = 400,
            ["detail"] = detail,
        });
        await log.AppendAsync(
        [
            new MessageLogRecord(received, MessageDirection.Inbound, requestId?.Originator, requestId?.ToString(), $"{kind}: {detail}", message),
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, requestId?.Originator, requestId?.ToString(), "400", problem),
        ], cancellationToken);
        return new GatewayReply(400, "application/problem+json", problem, kind);
    }
}
