using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Translation;

namespace OpenDcc.Core.Duis;

/// <summary>
/// A command OpenDcc gave a user for local delivery (CV 2, 6), kept so that the device's answer, which the user
/// returns with 8.13 Return Local Command Response, can be checked against it and what it did recorded.
/// </summary>
/// <param name="RequestId">The CV 2 or 6 request's: its originator is the user, its target the device.</param>
/// <param name="Body">The request's body element as sent (for CV 2, what the device is asked to do).</param>
/// <param name="SignedPreCommand">For CV 6: the user's signed pre-command, as checked.</param>
/// <param name="Command">The command as given to the user, in the device's format.</param>
public sealed record LocalCommand(RequestId RequestId, string ServiceReferenceVariant, string Body, byte[]? SignedPreCommand, byte[] Command, Instant IssuedAt)
{
    public Eui64 User => RequestId.Originator;

    public Eui64 Device => RequestId.Target;

    /// <summary>When its answer came back (8.13); null until then.</summary>
    public Instant? ReturnedAt { get; init; }

    /// <summary>The 8.13 that brought its answer back; null until then.</summary>
    public RequestId? ReturnedBy { get; init; }

    /// <summary>Whether that 8.13 was logged, which makes the return final; until then the mark only holds the answer (<see cref="LocalCommands.UnloggedReturnHeldFor"/>).</summary>
    public bool ReturnLogged { get; init; }

    /// <summary>Whether its answer is taken at <paramref name="now"/>: by a logged 8.13, or lately by one not (yet) logged.</summary>
    public bool IsReturnedAt(Instant now) => ReturnedAt is { } at && (ReturnLogged || now - at < LocalCommands.UnloggedReturnHeldFor);
}

/// <summary>An 8.13 (<paramref name="ReturnedBy"/>) that took the answer to the command given under <paramref name="Command"/>.</summary>
public sealed record LocalReturn(RequestId Command, RequestId ReturnedBy);

/// <summary>The commands given for local delivery (<see cref="LocalCommand"/>).</summary>
public interface ILocalCommandStore
{
    /// <summary>
    /// Keeps a command given for local delivery. One kept under the same RequestID (the request sent again after the
    /// store was away, so its first answer never left) is replaced, unless its answer has come back.
    /// </summary>
    Task RecordAsync(LocalCommand command, CancellationToken cancellationToken = default);

    Task<LocalCommand?> FindAsync(RequestId requestId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks its answer brought back at <paramref name="at"/> by the 8.13 <paramref name="returnedBy"/>, once: false when
    /// another 8.13 had brought it already (or it is not kept). The same 8.13 may mark it again (sent again because its
    /// reply was never logged, so never given, or its log's commit was reported failed), which leaves the mark final if
    /// it was; another may once a mark whose 8.13 was never logged is
    /// <see cref="LocalCommands.UnloggedReturnHeldFor"/> old. The mark is final when its 8.13 is logged
    /// (<see cref="Security.MessageLogRecord.Returns"/>).
    /// </summary>
    Task<bool> MarkReturnedAsync(RequestId requestId, RequestId returnedBy, Instant at, CancellationToken cancellationToken = default);

    /// <summary>Takes back the mark <paramref name="returnedBy"/> made (not another 8.13's), unless that 8.13 was logged: what the answer says could not be recorded after all, so it may be returned again.</summary>
    Task UnmarkReturnedAsync(RequestId requestId, RequestId returnedBy, CancellationToken cancellationToken = default);

    /// <summary>Those given since <paramref name="issuedSince"/> whose answer no logged 8.13 has brought back, the oldest given first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<LocalCommand>> ListWaitingAsync(Instant issuedSince, int max, CancellationToken cancellationToken = default);

    /// <summary>How many given since <paramref name="issuedSince"/> have an answer no logged 8.13 has brought back.</summary>
    Task<long> CountWaitingAsync(Instant issuedSince, CancellationToken cancellationToken = default);

    /// <summary>Forgets the command given under <paramref name="requestId"/> unless its answer has come back: its request was not logged, so the user never had it.</summary>
    Task ForgetAsync(RequestId requestId, CancellationToken cancellationToken = default);

    /// <summary>Forgets the commands given before <paramref name="issuedBefore"/>, returned or not; how many.</summary>
    Task<int> ForgetIssuedBeforeAsync(Instant issuedBefore, CancellationToken cancellationToken = default);
}

/// <summary>
/// Local delivery's two ends in the DCC: the command given to a user (CV 2, 6) is kept, and 8.13 Return Local Command
/// Response brings the device's answer back. The answer is checked by the device's adapter against the very command
/// (<see cref="ITranslationAdapter.FromLocalDelivery"/>: from the device, intact, answering that command), taken once,
/// and what the device confirmed goes into the inventory as for an answer over the SM WAN (<see cref="DeviceConfirmations"/>).
/// The user gets <c>I0</c> with the answer as the DCC passes a device's answer on (<c>GBCSPayload</c>).
/// </summary>
public sealed class LocalCommands(ILocalCommandStore store, IInventoryStore inventory, TranslationAdapters adapters, DeviceConfirmations confirmations, IClock clock, GatewayResponseCodes? codes = null)
{
    /// <summary>8.13 Return Local Command Response.</summary>
    public const string ReturnLocalCommandResponse = "8.13";

    /// <summary>
    /// How long a command given for local delivery is kept for its answer to come back: an installer's visit and the
    /// upload after it, with room to spare (OpenDcc's choice; DUIS sets none). A device drops a command older than
    /// one it has executed since anyway.
    /// </summary>
    public static Duration KeptFor { get; } = Duration.FromDays(30);

    /// <summary>
    /// How long an 8.13 that was never logged (the log failed, and taking its mark back failed too) holds the answer it
    /// took: it may be sent again meanwhile, while its counter is still the user's last; then another 8.13 may take the
    /// answer, which the user never had. Far longer than an 8.13 takes to be logged.
    /// </summary>
    public static Duration UnloggedReturnHeldFor { get; } = Duration.FromMinutes(5);

    private readonly GatewayResponseCodes codes = codes ?? GatewayResponseCodes.Default;

    /// <summary>Keeps the command made for a CV 2 or 6 request, before the user is given it, and forgets those past <see cref="KeptFor"/>.</summary>
    public async Task RecordAsync(PreparedDeviceCommand prepared, byte[] command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var request = prepared.Request;
        var now = clock.GetCurrentInstant();
        await store.RecordAsync(new LocalCommand(request.RequestId, request.Variant.Id, request.BodyText(), prepared.SignedPreCommand, command, now), cancellationToken);
        await store.ForgetIssuedBeforeAsync(now - KeptFor, cancellationToken);
    }

    /// <summary>Forgets the command kept for a request that was then not logged (<see cref="ILocalCommandStore.ForgetAsync"/>).</summary>
    public Task ForgetAsync(RequestId requestId) => store.ForgetAsync(requestId);

    /// <summary>
    /// 8.13: the device's answer to a command given for local delivery, checked and recorded; or why not. The answer is
    /// taken (marked returned) at once, so a second 8.13 cannot take it too; <c>GiveBack</c> takes the mark back should
    /// the 8.13 then not be logged, so that it may be sent again (what the device confirmed, recorded already, is
    /// recorded again without a change); <c>Returned</c>, logged with the 8.13, makes the mark final.
    /// </summary>
    public async Task<(DuisResponse Response, string Outcome, Func<Task>? GiveBack, LocalReturn? Returned)> ReturnAsync(DuisRequest request, DccUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        var sr = DuisNamespaces.Sr;
        if (Stranger(request.Body) is { } stranger)
        {
            return Refuse(request, codes.InvalidRequest, $"8.13 sr:{request.Body.Name.LocalName} holds {stranger}, which it does not take: an sr:OriginalRequestID and an sr:DeviceGBCSResponse, each once");
        }
        var originalText = request.Body.Element(sr + "OriginalRequestID")?.Value.Trim();
        if (originalText is null)
        {
            return Refuse(request, codes.LocalCommandUnknown, "8.13 names no sr:OriginalRequestID: OpenDcc needs the RequestID of the CV 2 or 6 request whose command the device answered");
        }
        if (!RequestId.TryParse(originalText, out var original))
        {
            return Refuse(request, codes.InvalidRequest, $"8.13 sr:OriginalRequestID '{Excerpt.Of(originalText)}' is not a RequestID");
        }
        byte[] answer;
        try
        {
            answer = Convert.FromBase64String(request.Body.Element(sr + "DeviceGBCSResponse")?.Value.Trim() ?? throw new FormatException());
        }
        catch (FormatException)
        {
            return Refuse(request, codes.InvalidRequest, "8.13 sr:DeviceGBCSResponse is missing or not base64");
        }
        // Another user's command is as unknown to this one as one never given, and one past its keeping as one forgotten.
        if (original.Originator != user.Id || await store.FindAsync(original, cancellationToken) is not { } local || local.IssuedAt + KeptFor < clock.GetCurrentInstant())
        {
            return Refuse(request, codes.LocalCommandUnknown, $"OpenDcc gave {user.Id} no command for local delivery under RequestID {original} in the last {KeptFor.Days} days");
        }
        // The same 8.13 again is a resend of one whose reply was not logged (else the replay check had refused it), whose
        // mark could not be taken back then: it takes the answer again.
        if (local.IsReturnedAt(clock.GetCurrentInstant()) && local.ReturnedBy != request.RequestId)
        {
            return Refuse(request, codes.LocalResponseReturned, $"the answer to {original}'s command came back already, at {local.ReturnedAt}");
        }
        if (await inventory.FindDeviceAsync(local.Device, cancellationToken) is not { } device)
        {
            return Refuse(request, ResponseCode.DeviceDoesNotExist.Code, $"device {local.Device} is no longer in the smart metering inventory");
        }
        var adapter = adapters.For(device);
        // A manufacturer's adapter that throws on an answer has not read it: the user is told, not given a 500.
        var read = AdapterFault.Read(adapter, a => a.FromLocalDelivery(answer, device.Id, local.Command));
        if (read is not DeviceMessage.Answer reply)
        {
            var why = read is DeviceMessage.Unreadable unreadable ? unreadable.Reason : "it is an alert, not an answer";
            return Refuse(request, codes.LocalResponseInvalid, $"sr:DeviceGBCSResponse is not {device.Id}'s answer to {original}'s command: {why}");
        }
        var now = clock.GetCurrentInstant();
        if (!await store.MarkReturnedAsync(original, request.RequestId, now, cancellationToken))
        {
            return Refuse(request, codes.LocalResponseReturned, $"the answer to {original}'s command came back already");
        }
        try
        {
            if (DuisOperations.TryReadCommand(local.ServiceReferenceVariant, local.Body, local.SignedPreCommand, adapter, codes, out var operation, out _) && operation is not null)
            {
                await confirmations.ApplyAsync(device.Id, operation, reply.Outcome, new InventoryChange(now, local.ServiceReferenceVariant, user.Id), cancellationToken);
            }
        }
        catch (Exception)
        {
            // The user's fault to report is the one that stopped the recording; if the mark cannot be taken back either
            // (the store away), the answer stays taken, but by this 8.13, which may be sent again as it was.
            try
            {
                await store.UnmarkReturnedAsync(original, request.RequestId, CancellationToken.None);
            }
#pragma warning disable CA1031 // See above: the first fault is rethrown.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            throw;
        }
        return (DuisResponse.For(request, ResponseCode.Success.Code, now, new ResponsePayload.GbcsPayload(reply.DuisPayload)), $"I0 answer to {original} ({local.ServiceReferenceVariant})",
            () => store.UnmarkReturnedAsync(original, request.RequestId, CancellationToken.None), new LocalReturn(original, request.RequestId));
    }

    /// <summary>
    /// The first element of an 8.13 body that the DUIS XSD's ReturnLocalCommandResponse does not take, or takes once and
    /// finds again, named; null if none. One ignored would have the answer taken and recorded without it.
    /// </summary>
    private static string? Stranger(XElement body)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var element in body.Elements())
        {
            var name = element.Name.LocalName;
            if (element.Name.Namespace != DuisNamespaces.Sr || name is not ("OriginalRequestID" or "DeviceGBCSResponse") || !seen.Add(name) || element.HasElements)
            {
                return element.Name.Namespace == DuisNamespaces.Sr ? $"sr:{Excerpt.Of(name)}" : $"{{{Excerpt.Of(element.Name.NamespaceName)}}}{Excerpt.Of(name)}";
            }
        }
        return null;
    }

    private (DuisResponse, string, Func<Task>?, LocalReturn?) Refuse(DuisRequest request, string code, string reason) =>
        (DuisResponse.For(request, code, clock.GetCurrentInstant()), $"{code} {reason}", null, null);
}
