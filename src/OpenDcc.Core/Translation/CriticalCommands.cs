using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Translation;

/// <summary>
/// The DCC's part in critical commands (GBCS common stages, duis-and-dcc.md §1.7): Transform (DUIS CV 4) builds the
/// command the device will execute, in the device's format, for the user to sign; a Signed Pre-Command (CV 5) is
/// checked before it is queued — a well-formed pre-command of the target device's format, naming that device, the
/// originator as signer and the request's SRV, and signed with a Digital Signing certificate of the originator. The
/// access control broker's MAC is added when the command goes on the WAN (<see cref="ICriticalCommandTranslation.ToDevice"/>).
/// </summary>
public sealed class CriticalCommands(TranslationAdapters adapters, IPartyStore parties, IClock clock, GatewayResponseCodes? codes = null)
{
    private readonly GatewayResponseCodes codes = codes ?? GatewayResponseCodes.Default;

    /// <summary>Transform: the pre-command for the request's device, or why there is none.</summary>
    public CriticalCommandResult Transform(DuisRequest request, Device device)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(device);
        if (!DuisOperations.TryRead(request.Variant.Id, request.Body, codes, out var operation, out var unread))
        {
            return CriticalCommandResult.Refuse(unread!.Code, unread.Reason);
        }
        var adapter = adapters.For(device);
        if (!adapter.Carries(operation!, device.Type))
        {
            return CriticalCommandResult.Refuse(DuisOperations.NotTranslated, $"adapter {adapter.Name} does not carry SRV {request.Variant.Id} to a {device.Type}");
        }
        if (adapter is not ICriticalCommandTranslation critical)
        {
            return CriticalCommandResult.Refuse(DuisOperations.NotTranslated, $"adapter {adapter.Name}'s devices take no signed critical commands");
        }
        byte[] preCommand;
        try
        {
            preCommand = critical.ToPreCommand(operation!, device.Id, request.RequestId.Originator, request.RequestId.Counter);
        }
#pragma warning disable CA1031 // Whatever a manufacturer's adapter throws, the user is told, as when a command is put on the WAN.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return CriticalCommandResult.Refuse(AdapterFault.CodeFor(e, codes), $"not translated: adapter {adapter.Name} could not make the pre-command: {e.Message}");
        }
        return CriticalCommandResult.Accept(preCommand, adapter.Name, operation!);
    }

    /// <summary>A Signed Pre-Command (the request's <c>sr:SignedPreCommand</c> body): its bytes once checked, or why it is refused.</summary>
    public async Task<CriticalCommandResult> CheckAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(device);
        var payload = request.Body.Element(DuisNamespaces.Sr + "GBCSPayload")?.Value.Trim();
        byte[] bytes;
        try
        {
            bytes = payload is null ? throw new FormatException("no sr:GBCSPayload") : Convert.FromBase64String(payload);
        }
        catch (FormatException e)
        {
            return CriticalCommandResult.Refuse(codes.InvalidRequest, $"sr:SignedPreCommand: {(payload is null ? e.Message : "sr:GBCSPayload is not base64")}");
        }
        var adapter = adapters.For(device);
        if (adapter is not ICriticalCommandTranslation critical)
        {
            return CriticalCommandResult.Refuse(DuisOperations.NotTranslated, $"adapter {adapter.Name}'s devices take no signed critical commands");
        }
        SignedPreCommand? signed;
        string? failure;
        try
        {
            signed = critical.ReadSignedPreCommand(bytes, out failure);
        }
#pragma warning disable CA1031 // An adapter that throws on the bytes (the SPI says reading never does) has not read them.
        catch (Exception e)
#pragma warning restore CA1031
        {
            (signed, failure) = (null, $"the adapter could not read it: {e.Message}");
        }
        if (signed is null)
        {
            return CriticalCommandResult.Refuse(codes.SignedPreCommandInvalid, $"not a signed pre-command for adapter {adapter.Name}: {failure}");
        }
        if (signed.Device != device.Id)
        {
            return CriticalCommandResult.Refuse(codes.SignedPreCommandInvalid, $"the signed pre-command is for device {signed.Device}, not the request's target {device.Id}");
        }
        if (signed.RemoteParty != user.Id)
        {
            return CriticalCommandResult.Refuse(codes.SignedPreCommandInvalid, $"the signed pre-command names {signed.RemoteParty} as its signer, not the originator {user.Id}");
        }
        if (!DuisOperations.Asks(request.Variant.Id, signed.Operation))
        {
            return CriticalCommandResult.Refuse(codes.SignedPreCommandInvalid, $"the signed pre-command asks {signed.Operation}, which is not SRV {request.Variant.Id} {request.Variant.Name}");
        }
        if (!adapter.Carries(signed.Operation, device.Type))
        {
            return CriticalCommandResult.Refuse(DuisOperations.NotTranslated, $"adapter {adapter.Name} does not carry SRV {request.Variant.Id} to a {device.Type}");
        }
        var certificates = await parties.ListCertificatesAsync(user.Id, cancellationToken);
        if (CommandSignature.Check(signed.SignedContent.Span, signed.Signature.Span, user.Id, certificates, clock.GetCurrentInstant()) is { } reason)
        {
            return CriticalCommandResult.Refuse(codes.SignedPreCommandNotAuthentic, reason);
        }
        return CriticalCommandResult.Accept(bytes, adapter.Name, signed.Operation);
    }
}

/// <summary>A pre-command (Transform) or a checked signed pre-command, or why not.</summary>
/// <param name="Format">The adapter whose wire format the bytes are in (the DUIS PreCommand's GBCSVersion).</param>
/// <param name="Operation">What the command asks of the device.</param>
public sealed record CriticalCommandResult(byte[]? Bytes, string? Format, DeviceOperation? Operation, DeviceRefusal? Refusal)
{
    public static CriticalCommandResult Accept(byte[] bytes, string format, DeviceOperation operation) => new(bytes, format, operation, null);

    public static CriticalCommandResult Refuse(string code, string reason) => new(null, null, null, new DeviceRefusal(code, reason));
}

/// <summary>
/// The originator counter of the last critical command each user sent each device, as the device keeps it (per signer).
/// A critical command goes on only with a higher one: the device would drop it anyway, and so no two of a user's
/// critical commands to a device share a counter, and a device's answer, which names the counter and the signer it
/// goes to, answers one command (8.13 Return Local Command Response relies on it).
/// </summary>
public interface ICriticalCounterStore
{
    /// <summary>
    /// Claims <paramref name="counter"/> for <paramref name="request"/>, a critical command of <paramref name="user"/> to
    /// <paramref name="device"/>: true when it is above the last one claimed for them, or was claimed by this very request
    /// (sent again after the store was away); false otherwise, and nothing changes.
    /// </summary>
    Task<bool> TryClaimAsync(Eui64 user, Eui64 device, ulong counter, RequestId request, CancellationToken cancellationToken = default);
}
