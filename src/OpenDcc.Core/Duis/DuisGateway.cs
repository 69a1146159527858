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
/// DSP-signed DUIS response (I99 for device requests, the real body for non-device ones, a Pre-Command for
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
    GatewayResponseCodes? codes = null,
    ApprovedDeviceModels? approvedModels = null)
{
    /// <summary>The 12.2 error for a model not on the approved list: the DCC's own 12.2 error code (duis-and-dcc.md §1.5).</summary>
    public const string ModelNotApproved = "E120201";

    private readonly GatewayResponseCodes codes = codes ?? GatewayResponseCodes.Default;
    private readonly ApprovedDeviceModels approvedModels = approvedModels ?? ApprovedDeviceModels.Any;

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
        var decision = AccessControlPolicy.Decide(request, new AccessContext(user, endpoint, device));
        if (!decision.IsAllowed)
        {
            return await RespondAsync(received, message, request.RequestId.Originator, DuisResponse.For(request, decision.Refusal!.Code, clock.GetCurrentInstant()), $"{decision.Refusal.Code} {decision.Reason}", cancellationToken);
        }

        if (request.IsNonDevice)
        {
            var (response, outcome) = await NonDeviceAsync(request, cancellationToken);
            return await RespondAsync(received, message, user!.Id, response, outcome, cancellationToken);
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

    private async Task<(DuisResponse Response, string Outcome)> NonDeviceAsync(DuisRequest request, CancellationToken cancellationToken)
    {
        var now = clock.GetCurrentInstant();
        switch (request.Variant.Id)
        {
            case "8.2":
                var deviceId = request.Body.Element(DuisNamespaces.Sr + "DeviceID")?.Value;
                if (deviceId is null || !Eui64.TryParse(deviceId, out var id))
                {
                    return (DuisResponse.For(request, codes.InventoryNotFound, now), $"{codes.InventoryNotFound} Read Inventory by UPRN, MPxN or property filter is not available yet");
                }
                var device = await inventory.FindDeviceAsync(id, cancellationToken);
                if (device is null)
                {
                    return (DuisResponse.For(request, codes.InventoryNotFound, now), $"{codes.InventoryNotFound} no device {id} in the inventory");
                }
                var payload = new ResponsePayload.Inventory([new InventoryDevice(device.Id, device.Type.ToString(), device.Status.ToString(), "Unknown", "Unknown")]);
                return (DuisResponse.For(request, ResponseCode.Success.Code, now, payload), "I0 DSPInventory");
            case "12.2":
                return await PreNotifyAsync(request, now, cancellationToken);
            default:
                return (DuisResponse.For(request, codes.NotYetAvailable, now), $"{codes.NotYetAvailable} non-device service {request.Variant.Id} {request.Variant.Name} is not available yet");
        }
    }

    /// <summary>
    /// 12.2 Device Pre-notification: the device joins the inventory as Pending with its model (manufacturer/model), if
    /// that model is approved (an existing device is left as it is).
    /// </summary>
    private async Task<(DuisResponse Response, string Outcome)> PreNotifyAsync(DuisRequest request, Instant now, CancellationToken cancellationToken)
    {
        var deviceId = request.Body.Descendants(DuisNamespaces.Sr + "DeviceID").FirstOrDefault()?.Value;
        var typeText = request.Body.Descendants(DuisNamespaces.Sr + "DeviceType").FirstOrDefault()?.Value;
        if (deviceId is null || !Eui64.TryParse(deviceId, out var id) || typeText is null || !Enum.TryParse<DeviceType>(typeText, ignoreCase: false, out var type))
        {
            return (DuisResponse.For(request, codes.InvalidRequest, now), $"{codes.InvalidRequest} 12.2 needs a DeviceID and a DeviceType");
        }
        var manufacturer = request.Body.Descendants(DuisNamespaces.Sr + "DeviceManufacturer").FirstOrDefault()?.Value.Trim();
        var model = request.Body.Descendants(DuisNamespaces.Sr + "DeviceModel").FirstOrDefault()?.Value.Trim();
        if (approvedModels.IsRestricted && (manufacturer is null || model is null || !approvedModels.IsApproved(manufacturer, model)))
        {
            return (DuisResponse.For(request, ModelNotApproved, now), $"{ModelNotApproved} device model {manufacturer ?? "(none)"}/{model ?? "(none)"} is not on the approved list");
        }
        if (await inventory.FindDeviceAsync(id, cancellationToken) is null)
        {
            try
            {
                await inventory.AddDeviceAsync(new Device(id, type, SmiStatus.Pending) { Model = manufacturer is null || model is null ? null : $"{manufacturer}/{model}" }, cancellationToken);
            }
            catch (DuplicateDeviceException)
            {
                // Pre-notified concurrently: the device is there, which is what was asked.
            }
        }
        return (DuisResponse.For(request, ResponseCode.Success.Code, now), $"I0 device {id} pre-notified");
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
