using System.Globalization;
using System.Security.Cryptography;
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
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Duis;

/// <summary>What goes back over HTTP for one request.</summary>
public sealed record GatewayReply(int StatusCode, string ContentType, byte[] Body, string Outcome);

/// <summary>Takes an accepted device request onwards to its device; the device's response goes to the user later.</summary>
public interface IDeviceRequestHandler
{
    /// <summary>
    /// Checks that the request can go to each of its devices (for example that the device's adapter carries its SRV, E11
    /// otherwise) and reads what they are to do; queues nothing. One preparation per device, in order, up to and
    /// including the first refused. What the request asks is read once for all its devices, and their commands share
    /// its body: an 11.1 naming thousands of devices holds its firmware image once.
    /// </summary>
    Task<IReadOnlyList<DevicePreparation>> PrepareAsync(DuisRequest request, DccUser user, IReadOnlyList<Device> devices, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues a prepared command for its device, once its request is durably logged as accepted. Refuses nothing: should
    /// the queue fail, the user hears so asynchronously, as from a device that could not be reached.
    /// </summary>
    Task QueueAsync(PreparedDeviceCommand command);

    /// <summary>
    /// A prepared command for local delivery (CV 2 and 6): made in its device's format and protected as it would be
    /// for the SM WAN, for the user to take to the device over its HAN; or why it cannot be made. Queues nothing.
    /// </summary>
    Task<(byte[]? Command, DeviceRefusal? Refusal)> ForLocalDeliveryAsync(PreparedDeviceCommand command);

    /// <summary>Transform (CV 4) of a critical request: the pre-command the device's adapter builds for the user to sign, or why there is none.</summary>
    Task<CriticalCommandResult> TransformAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default);
}

/// <summary>Why a device request was not sent on.</summary>
public sealed record DeviceRefusal(string Code, string Reason);

/// <summary>A device request that passed every check, with what the device is to do, ready for the device's queue.</summary>
/// <param name="SignedPreCommand">For a critical command (CV 5): the user's signed pre-command, as checked.</param>
/// <param name="Body">The request's body as text (<see cref="DuisRequest.BodyText"/>), made once for all its devices' commands.</param>
public sealed record PreparedDeviceCommand(DuisRequest Request, DccUser User, Device Device, DeviceOperation Operation, byte[]? SignedPreCommand, string Body)
{
    /// <summary>What its answer echoes of the request, and the device.</summary>
    public DeviceRequestReference Reference => new(Request.RequestId, Request.Variant.ServiceReference, Request.Variant.Id, Request.SchemaVersion, Device.Id);
}

/// <summary>What <see cref="IDeviceRequestHandler.PrepareAsync"/> found: a command ready to queue, or why the request cannot go.</summary>
public sealed record DevicePreparation
{
    private DevicePreparation(PreparedDeviceCommand? command, DeviceRefusal? refusal) => (Command, Refusal) = (command, refusal);

    public PreparedDeviceCommand? Command { get; }

    public DeviceRefusal? Refusal { get; }

    public static DevicePreparation Ready(PreparedDeviceCommand command) => new(command ?? throw new ArgumentNullException(nameof(command)), null);

    public static DevicePreparation Refused(DeviceRefusal refusal) => new(null, refusal ?? throw new ArgumentNullException(nameof(refusal)));
}

/// <summary>
/// The DUIS gateway (ARCHITECTURE §4 steps 1–3): reads a signed service request, checks its XML signature against the
/// originator's registered XmlSign certificate, its counter against replay, and access control; answers with a
/// DSP-signed DUIS response (I99 for device requests, the real body for the inventory's non-device ones
/// (<see cref="InventoryServiceRequests"/>), a Pre-Command for
/// Transform), logs the request and the response in the message log, and hands accepted device requests on.
/// </summary>
/// <remarks>
/// A request that passed the replay check is logged with its counter (<see cref="MessageLogRecord.AcceptedCounter"/>),
/// which makes the counter durable; an inventory request's change is made in the transaction that commits that entry
/// (<see cref="InventoryWrite"/>), its device commands are queued only once it is committed, and only then does the user
/// get the answer. So the one commit per request (shared, under load, with the requests around it)
/// serves the message log and replay protection both.
/// </remarks>
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
    LocalCommands localCommands,
    IWanCoverageStore wanCoverage,
    GatewayResponseCodes? codes = null,
    SmiStatusMatrix? statusMatrix = null)
{
    private readonly GatewayResponseCodes codes = codes ?? GatewayResponseCodes.Default;
    private readonly SmiStatusMatrix statusMatrix = statusMatrix ?? SmiStatusMatrix.Default;
    private readonly InventoryServiceRequests inventoryRequests = new(inventory, approvedModels, clock, codes ?? GatewayResponseCodes.Default, statusMatrix ?? SmiStatusMatrix.Default);
    private readonly WanMatrixRequests wanMatrix = new(wanCoverage, inventory, clock, codes ?? GatewayResponseCodes.Default);

    /// <summary>Handles one request sent to <paramref name="endpoint"/>, its body declared as <paramref name="contentType"/> (null: none declared).</summary>
    public async Task<GatewayReply> HandleAsync(DuisEndpoint endpoint, string? contentType, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var received = clock.GetCurrentInstant();
        if (DuisMediaType.Refusal(contentType) is { } mediaType)
        {
            return await ProblemAsync(received, LoggedRequest.Refused(message), null, "NotXml", mediaType, cancellationToken, StatusUnsupportedMediaType);
        }
        if (DuisRequestShape.Refusal(message.Span) is { } shape)
        {
            return await ProblemAsync(received, LoggedRequest.Refused(message), null, "NotADuisRequest", shape, cancellationToken);
        }
        XmlDocument document;
        try
        {
            document = DuisSignature.Load(message);
        }
        catch (XmlException e)
        {
            // .NET's message for a DTD advises its reader how to allow one: not advice for the sender.
            var fault = e.Message.Contains("DtdProcessing", StringComparison.Ordinal)
                ? $"it has a DTD (<!DOCTYPE>), which a DUIS request may not have"
                : e.Message;
            return await ProblemAsync(received, LoggedRequest.Refused(message), null, "MalformedXml", $"the request is not well-formed XML: {fault}", cancellationToken);
        }
        if (!DuisRequestReader.TryRead(document, catalogue, out var request, out var failure))
        {
            if (failure.Variant is null)
            {
                return await ProblemAsync(received, LoggedRequest.Refused(message), failure.RequestId, "NotADuisRequest", failure.Reason, cancellationToken);
            }
            return await RespondAsync(received, LoggedRequest.Refused(message), failure.RequestId?.Originator, DuisResponse.Unreadable(failure, codes.InvalidRequest, clock.GetCurrentInstant()), $"{codes.InvalidRequest} InvalidRequest: {failure.Reason}", cancellationToken);
        }

        var authentication = await signer.VerifyAsync(document, request.RequestId.Originator, cancellationToken);
        if (authentication is not null)
        {
            return await RespondAsync(received, LoggedRequest.Refused(message), request.RequestId.Originator, DuisResponse.For(request, codes.AuthenticationFailure, clock.GetCurrentInstant()), $"{codes.AuthenticationFailure} AuthenticationFailure: {authentication}", cancellationToken);
        }

        // A Signed Pre-Command may come under its Transform's RequestID, as DCC Boxed's own client sends it.
        CriticalStep? step = request.CommandVariant switch
        {
            4 => new CriticalStep(request.Variant.Id, IsTransform: true),
            5 or 6 => new CriticalStep(request.Variant.Id, IsTransform: false),
            _ => null,
        };
        // Not cancelled when the user hangs up: the grain raises the counter as it accepts it, and a counter accepted
        // without this request's knowing could not be given back (the same signed request sent again would be a replay).
        var verdict = await replay.AcceptAsync(request.RequestId, step, CancellationToken.None);
        if (!verdict.Accepted)
        {
            var transformNote = step is { IsTransform: false } && request.RequestId.Counter == verdict.LastAccepted
                ? " (a Signed Pre-Command takes its Transform's RequestID only straight after that Transform, once; send it under a new counter)"
                : "";
            return await RespondAsync(received, LoggedRequest.Refused(message), request.RequestId.Originator, DuisResponse.For(request, codes.Replay, clock.GetCurrentInstant()),
                $"{codes.Replay} Replay: counter {request.RequestId.Counter} is not greater than {verdict.LastAccepted}{transformNote}", cancellationToken);
        }

        Decision? decision = null;
        GatewayReply reply;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                decision = await DecideAsync(endpoint, request, cancellationToken);
                // Not cancelled from here on, even if the user hangs up: a request logged as answered is carried out.
                var acknowledged = decision.Queue.Count == 0 ? null : decision.Queue.Select(c => new UnansweredCommand(c.Reference, c.User.Id, received)).ToList();
                var counter = new CounterUse(request.RequestId.Counter, step is { IsTransform: true } transform ? new OpenTransform(request.RequestId.Target, transform.ServiceReferenceVariant) : null, verdict.FollowsTransform);
                try
                {
                    reply = await RespondAsync(received, LoggedRequest.Whole(message), request.RequestId.Originator, decision.Response, decision.Outcome, CancellationToken.None, counter, acknowledged, decision.Returns, decision.Changes);
                    break;
                }
                catch (InventoryChangedException) when (attempt < MaxInventoryAttempts)
                {
                    // Nothing stored: a device the request changes was changed meanwhile, so it is checked again as it is now.
                }
                finally
                {
                    if (decision.Changes is { } changes && inventory is CachingInventoryStore cache)
                    {
                        cache.Forget(changes.DeviceIds);
                    }
                }
            }
        }
        catch (Exception e) when (!CommitOutcomeUnknownException.In(e))
        {
            // Not logged, so not carried out (the store away, the user gone): the counter is not spent, and the user's
            // system may send the same signed request again, as a 503's Retry-After invites it to.
            await ReleaseAsync(request.RequestId, verdict, step, decision?.Undo);
            throw;
        }
        // Otherwise the store went away as the request was logged, and did not say whether it was: the counter stays
        // spent and nothing is undone, since both may be in the log. Its commands, if it was, are answered E21 when the
        // hub starts next (UnansweredCommandRecovery), as any the hub acknowledged and did not answer.
        // The request, its counter and its commands are durable now: a restart cannot take it again, and answers the
        // commands if they were lost with the device queues (UnansweredCommand), so they may go to their devices.
        foreach (var command in decision.Queue)
        {
            await devices.QueueAsync(command);
        }
        return reply;
    }

    /// <summary>
    /// How many times an inventory request is checked and logged, each time finding a device it changes changed meanwhile
    /// by another (<see cref="InventoryChangedException"/>), before it fails: each try needs another change to one of
    /// its devices during its check.
    /// </summary>
    private const int MaxInventoryAttempts = 10;

    /// <summary>
    /// The counter given back; if that fails too (the hub stopping), it stays spent until the hub starts again, which reads
    /// it from the log, where it never was: the user's first fault is the one to report.
    /// </summary>
    private async Task ReleaseAsync(RequestId requestId, ReplayVerdict verdict, CriticalStep? step, Func<Task>? undo)
    {
        try
        {
            if (undo is not null)
            {
                await undo();
            }
        }
        catch (Exception)
        {
            // Kept (the store away as the log was): a command given for local delivery stays listed though no one had
            // it (the same request sent again replaces it), an 8.13's answer stays taken by that 8.13 (the same 8.13 sent
            // again takes it again); the user's first fault is the one to report.
        }
        try
        {
            await replay.ReleaseAsync(requestId, verdict, step);
        }
        catch (Exception)
        {
            // Left spent: the user sends it again with a new counter.
        }
    }

    /// <summary>The answer to a request that passed signature and replay checks, and the device commands it queues once logged.</summary>
    /// <param name="Undo">Takes back what deciding kept (a command given for local delivery, an 8.13 answer taken) when its request is then not logged, so not carried out.</param>
    private sealed record Decision(DuisResponse Response, string Outcome, IReadOnlyList<PreparedDeviceCommand> Queue, Func<Task>? Undo = null)
    {
        /// <summary>An 8.13's taking of a local command's answer, made final with the request's log entry.</summary>
        public LocalReturn? Returns { get; init; }

        /// <summary>An inventory request's change, made with the request's log entry.</summary>
        public InventoryWrite? Changes { get; init; }

        public Decision(DuisResponse response, string outcome)
            : this(response, outcome, [])
        {
        }
    }

    private async Task<Decision> DecideAsync(DuisEndpoint endpoint, DuisRequest request, CancellationToken cancellationToken)
    {
        var user = await parties.FindUserAsync(request.RequestId.Originator, cancellationToken);
        var device = request.IsNonDevice ? null : await inventory.FindDeviceAsync(request.RequestId.Target, cancellationToken);
        var decision = AccessControlPolicy.Decide(request, new AccessContext(user, endpoint, device, statusMatrix));
        if (!decision.IsAllowed)
        {
            return Refuse(request, decision.Refusal!.Code, $"{decision.Refusal.Code} {decision.Reason}");
        }

        // A non-device request is addressed to the DCC itself (DCC Boxed's templates name its EUI-64 as their target).
        if (request.IsNonDevice && request.RequestId.Target != signer.Dsp)
        {
            return Refuse(request, codes.InvalidRequest, $"{codes.InvalidRequest} {request.Variant.Id} is a non-device service, addressed to the DCC ({signer.Dsp}); its RequestID names {request.RequestId.Target}");
        }
        if (request.Variant.Id == FirmwareDistribution)
        {
            return await DistributeFirmwareAsync(request, user!, cancellationToken);
        }
        if (request.Variant.Id == LocalCommands.ReturnLocalCommandResponse)
        {
            var (returned, returnOutcome, giveBack, taken) = await localCommands.ReturnAsync(request, user!, cancellationToken);
            return new Decision(returned, returnOutcome, [], giveBack) { Returns = taken };
        }
        if (request.Variant.Id == WanMatrixRequests.RequestWanMatrix)
        {
            var (matrix, matrixOutcome) = await wanMatrix.HandleAsync(request, cancellationToken);
            return new Decision(matrix, matrixOutcome);
        }
        if (request.IsNonDevice)
        {
            if (!InventoryServiceRequests.Handles(request.Variant.Id))
            {
                return Refuse(request, codes.NotYetAvailable, $"{codes.NotYetAvailable} non-device service {request.Variant.Id} {request.Variant.Name} is not available yet");
            }
            var (response, outcome, changes) = await inventoryRequests.HandleAsync(request, user!, cancellationToken);
            return new Decision(response, outcome) { Changes = changes };
        }
        if (request.Variant.Id == Commissioning && await CommissioningRefusalAsync(device!, cancellationToken) is { } notApproved)
        {
            return Refuse(request, codes.CommissionedModelNotApproved, $"{codes.CommissionedModelNotApproved} {notApproved}");
        }
        switch (request.CommandVariant)
        {
            case 4:
                // Transform: the command the device will execute, in its own format, for the user to sign (GBCS Pre-Command).
                var transformed = await devices.TransformAsync(request, user!, device!, cancellationToken);
                if (transformed.Refusal is { } notTransformed)
                {
                    return Refuse(request, notTransformed.Code, $"{notTransformed.Code} {notTransformed.Reason}");
                }
                var preCommand = new ResponsePayload.PreCommand(transformed.Format!, transformed.Bytes!);
                return new Decision(DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), preCommand), "I0 PreCommand");
            case 1 or 5 or 2 or 6:
                var forLocalDelivery = request.CommandVariant is 2 or 6;
                if (forLocalDelivery && catalogue[LocalCommands.ReturnLocalCommandResponse] is var returning && !returning.IsEligibleFor(user!.Roles))
                {
                    // OpenDcc's rule: a local command's effect reaches the inventory only through 8.13, so only a user
                    // that may send 8.13 may take one.
                    return Refuse(request, ResponseCode.LocalCommandNotAvailable.Code, $"{ResponseCode.LocalCommandNotAvailable.Code} commands for local delivery are for users that may return the device's answer with 8.13 (roles {returning.EligibleRoles}); {user.Id} is {user.Roles}");
                }
                // Checked for its device first: a request no adapter can carry, or a signed pre-command that fails its
                // checks, is refused now rather than acknowledged.
                var prepared = (await devices.PrepareAsync(request, user!, [device!], cancellationToken)).Single();
                if (prepared.Refusal is { } refusal)
                {
                    return Refuse(request, refusal.Code, $"{refusal.Code} {refusal.Reason}");
                }
                if (!forLocalDelivery)
                {
                    return new Decision(DuisResponse.For(request, ResponseCode.Acknowledged.Code, clock.GetCurrentInstant()), "I99", [prepared.Command!]);
                }
                // Local delivery: the command, protected as for the SM WAN, goes back to the user, whose installer takes
                // it to the device over its HAN; it is kept, for the device's answer to come back with 8.13 (LocalCommands).
                var (local, notMade) = await devices.ForLocalDeliveryAsync(prepared.Command!);
                if (notMade is not null)
                {
                    return Refuse(request, notMade.Code, $"{notMade.Code} {notMade.Reason}");
                }
                await localCommands.RecordAsync(prepared.Command!, local!, cancellationToken);
                return new Decision(DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), new ResponsePayload.LocalCommand(local!)), "I0 LocalCommand", [],
                    () => localCommands.ForgetAsync(request.RequestId));
            default:
                // CV 3 and 7 send a command over the SM WAN and return a copy for local delivery, which DCC Boxed does
                // not offer either: the user sends CV 1 or 5, or CV 2 or 6.
                return Refuse(request, ResponseCode.LocalCommandNotAvailable.Code, $"{ResponseCode.LocalCommandNotAvailable.Code} command variant {request.CommandVariant} (a command over the SM WAN and a copy for local delivery) is not offered: send command variant {(request.CommandVariant == 3 ? "1 or 2" : "5 or 6")}");
        }
    }

    private Decision Refuse(DuisRequest request, string code, string outcome) => new(DuisResponse.For(request, code, clock.GetCurrentInstant()), outcome);

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

    /// <summary>The DUIS XSD's DeviceIDList holds at most 1,199,999 characters: 50,000 EUI-64s and their commas.</summary>
    private const int MaxFirmwareDevices = 50_000;

    /// <summary>
    /// 11.1 Update Firmware: the DCC distributes the image to each device in the body's DeviceIDList over the SM WAN;
    /// each device's answer reaches the user as an asynchronous response to this request. Every listed device must be
    /// in the inventory (E19 otherwise), in a status the SRV × SMI status matrix allows for 11.1 (E5 otherwise, naming
    /// the devices) and accepted by the device side (its code otherwise, naming the device); one refusal sends nothing.
    /// The DUIS XSD makes DeviceIDList one element holding the devices' IDs separated by commas, at most 50,000 of them.
    /// </summary>
    private async Task<Decision> DistributeFirmwareAsync(DuisRequest request, DccUser user, CancellationToken cancellationToken)
    {
        if (request.Body.Elements(DuisNamespaces.Sr + "DeviceIDList").ToList() is not [var list])
        {
            return Refuse(request, codes.InvalidRequest, $"{codes.InvalidRequest} 11.1 must hold one DeviceIDList (the devices' IDs separated by commas)");
        }
        if (string.IsNullOrWhiteSpace(list.Value))
        {
            return Refuse(request, codes.InvalidRequest, $"{codes.InvalidRequest} 11.1 names no device in DeviceIDList");
        }
        var listed = list.Value.Split(',', StringSplitOptions.TrimEntries);
        if (listed.Length > MaxFirmwareDevices)
        {
            return Refuse(request, codes.InvalidRequest, $"{codes.InvalidRequest} 11.1 DeviceIDList names {listed.Length:N0} devices; at most {MaxFirmwareDevices:N0}");
        }
        var ids = new List<Eui64>(listed.Length);
        foreach (var text in listed)
        {
            if (!Eui64.TryParse(text, out var id))
            {
                return Refuse(request, codes.InvalidRequest, $"{codes.InvalidRequest} 11.1 DeviceIDList: '{Excerpt.Of(text)}' is not an EUI-64");
            }
            ids.Add(id);
        }
        var found = await inventory.FindDevicesAsync(ids, cancellationToken);
        var known = found.Select(d => d.Id).ToHashSet();
        if (ids.Distinct().Where(id => !known.Contains(id)).ToList() is { Count: > 0 } unknown)
        {
            return Refuse(request, ResponseCode.DeviceDoesNotExist.Code, $"{ResponseCode.DeviceDoesNotExist.Code} not in the smart metering inventory: {string.Join(", ", unknown)}");
        }
        if (found.Where(d => !statusMatrix.Allows(FirmwareDistribution, d.Status)).ToList() is { Count: > 0 } unfit)
        {
            return Refuse(request, ResponseCode.DeviceStatusIncompatible.Code,
                $"{ResponseCode.DeviceStatusIncompatible.Code} {FirmwareDistribution} needs devices {statusMatrix.StatusesFor(FirmwareDistribution)}: {string.Join(", ", unfit.Select(d => $"{d.Id} is {d.Status}"))}");
        }
        var commands = new List<PreparedDeviceCommand>(found.Count);
        foreach (var (device, prepared) in found.Zip(await devices.PrepareAsync(request, user, found, cancellationToken)))
        {
            if (prepared.Refusal is { } refusal)
            {
                return Refuse(request, refusal.Code, $"{refusal.Code} {device.Id}: {refusal.Reason} (nothing sent)");
            }
            commands.Add(prepared.Command!);
        }
        return new Decision(DuisResponse.For(request, ResponseCode.Acknowledged.Code, clock.GetCurrentInstant()), $"I99 firmware to {string.Join(", ", commands.Select(c => c.Device.Id))}", commands);
    }

    /// <summary>
    /// The most the message log keeps of a request refused before it passed the replay check (unreadable, malformed, not
    /// a DUIS request, not authentic, or a replay): anyone who reaches the endpoint, or who captured one signed request,
    /// could otherwise add up to 16 MiB to the log with each request. Requests past the replay check, a firmware image
    /// inline among them, are kept whole; a replay's digest matches the entry of the request it repeats.
    /// </summary>
    public const int MaxRefusedRequestLogBytes = 64 * 1024;

    /// <summary>What the message log keeps of a request, and what its entry's outcome says when that is not all of it.</summary>
    private readonly record struct LoggedRequest(ReadOnlyMemory<byte> Payload, string Note)
    {
        public static LoggedRequest Whole(ReadOnlyMemory<byte> message) => new(message, "");

        /// <summary>Up to <see cref="MaxRefusedRequestLogBytes"/> whole; longer, its start, with its length and SHA-256 in the note.</summary>
        public static LoggedRequest Refused(ReadOnlyMemory<byte> message) =>
            message.Length <= MaxRefusedRequestLogBytes
                ? new(message, "")
                : new(message[..MaxRefusedRequestLogBytes], string.Create(CultureInfo.InvariantCulture,
                    $" [the log keeps the first {MaxRefusedRequestLogBytes:N0} of its {message.Length:N0} bytes; SHA-256 of all of them {Convert.ToHexString(SHA256.HashData(message.Span))}]"));
    }

    /// <summary>
    /// A request's counter, which passed the replay check: logged with the request, it is durably used, and so is the
    /// Transform it opens (a CV 4) or closes (a Signed Pre-Command under its Transform's RequestID).
    /// </summary>
    private sealed record CounterUse(ulong Counter, OpenTransform? Opens, bool Closes);

    /// <param name="counter">The request's counter when it passed the replay check.</param>
    /// <param name="acknowledged">The device commands its I99 acknowledges: logged with it, they are durably unanswered until answered.</param>
    /// <param name="changes">What an inventory request changes: made with its log entry, or (a device changed meanwhile) neither.</param>
    private async Task<GatewayReply> RespondAsync(Instant received, LoggedRequest request, Eui64? user, DuisResponse response, string outcome, CancellationToken cancellationToken, CounterUse? counter = null, IReadOnlyList<UnansweredCommand>? acknowledged = null, LocalReturn? returns = null, InventoryWrite? changes = null)
    {
        var signed = signer.Sign(response);
        var correlation = response.RequestId?.ToString();
        outcome = Excerpt.Ends(outcome);
        await log.AppendAsync(
        [
            new MessageLogRecord(received, MessageDirection.Inbound, user, correlation, outcome + request.Note, request.Payload) { AcceptedCounter = counter?.Counter, OpensTransform = counter?.Opens, ClosesTransform = counter?.Closes ?? false, Acknowledges = acknowledged, Returns = returns, ChangesInventory = changes },
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, user, correlation, response.ResponseCode, signed),
        ], cancellationToken);
        return new GatewayReply(200, "application/xml", signed, outcome);
    }

    private const int StatusUnsupportedMediaType = 415;

    private async Task<GatewayReply> ProblemAsync(Instant received, LoggedRequest request, RequestId? requestId, string kind, string detail, CancellationToken cancellationToken, int status = 400)
    {
        detail = Excerpt.Ends(detail);
        var problem = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["type"] = "about:blank",
            ["title"] = "Not a readable DUIS service request",
            ["status"] = status,
            ["detail"] = detail,
        });
        await log.AppendAsync(
        [
            new MessageLogRecord(received, MessageDirection.Inbound, requestId?.Originator, requestId?.ToString(), $"{kind}: {detail}{request.Note}", request.Payload),
            new MessageLogRecord(clock.GetCurrentInstant(), MessageDirection.Outbound, requestId?.Originator, requestId?.ToString(), status.ToString(CultureInfo.InvariantCulture), problem),
        ], cancellationToken);
        return new GatewayReply(status, "application/problem+json", problem, kind);
    }
}
