using System.Collections.Concurrent;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The reference adapter for GBCS-like devices (ESME, GSME): each operation becomes a <see cref="GbcsCodec"/>
/// command frame from the Access Control Broker, MACed with the key the ACB shares with that device (ECDH P-256 of
/// the ACB's key-agreement key and the device's, through the SHA-256 KDF); the device's answer is checked (MAC, and
/// a counter that must rise) and goes to the user as the DUIS GBCSPayload unchanged, as GBCS answers do. Critical
/// commands are GBCS critical-command frames (GbcsCodec.Critical.cs): a pre-command at Transform, signed by the
/// user, MACed here.
/// </summary>
public sealed class GbcsReferenceAdapter(Eui64 acb, ECDiffieHellman acbKeyAgreement, IDeviceKeyDirectory deviceKeys) : ITranslationAdapter, ICriticalCommandTranslation, IDisposable
{
    public const string AdapterName = "gbcs-reference";

    private readonly Eui64 acb = acb;
    private readonly ECDiffieHellman acbKeyAgreement = acbKeyAgreement;
    private readonly IDeviceKeyDirectory deviceKeys = deviceKeys;

    private readonly ConcurrentDictionary<Eui64, GbcsMacKey> keys = new();
    private readonly GbcsCounterGuard deviceCounters = new();

    public string Name => AdapterName;

    public bool Carries(DeviceOperation operation, DeviceType type) => type is DeviceType.ESME or DeviceType.GSME;

    public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter) =>
        GbcsCodec.EncodeCommand(new GbcsHeader(counter, acb, device), operation, KeyFor(device));

    public byte[] ToPreCommand(DeviceOperation operation, Eui64 device, Eui64 remoteParty, ulong counter) =>
        GbcsCodec.EncodePreCommand(new GbcsHeader(counter, remoteParty, device), operation);

    public SignedPreCommand? ReadSignedPreCommand(ReadOnlySpan<byte> bytes, out string? failure)
    {
        var read = GbcsCodec.ReadPreCommand(bytes);
        if (!read.Succeeded || !read.Value.IsSigned)
        {
            failure = read.Succeeded ? "the pre-command is not signed (its signature length is 0)" : read.Reason;
            return null;
        }
        failure = null;
        return new SignedPreCommand(read.Value.Operation, read.Header.Originator, read.Header.Recipient, read.Header.Counter, read.Value.SignedContent, read.Value.Signature);
    }

    public byte[] ToDevice(ReadOnlySpan<byte> signedPreCommand, Eui64 device) => GbcsCodec.ProtectCriticalCommand(signedPreCommand, KeyFor(device));

    public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device)
    {
        GbcsMacKey key;
        try
        {
            key = KeyFor(device);
        }
        catch (InvalidOperationException e)
        {
            return new DeviceMessage.Unreadable(e.Message);
        }
        // The frame says whether it answers a command or is an alert: one decode, one MAC check.
        if (GbcsCodec.DirectionOf(message) == GbcsDirection.Alert)
        {
            var alert = GbcsCodec.DecodeAlert(message, key);
            return !alert.Succeeded ? new DeviceMessage.Unreadable(alert.Reason!)
                : (DeviceMessage?)Accept(alert.Header, device) ?? new DeviceMessage.Alert(alert.Value!, message.ToArray());
        }
        var response = GbcsCodec.DecodeResponse(message, key);
        return !response.Succeeded ? new DeviceMessage.Unreadable(response.Reason!)
            : (DeviceMessage?)Accept(response.Header, device) ?? new DeviceMessage.Answer(response.Value!, message.ToArray());
    }

    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
    }

    /// <summary>Null when the frame comes from the device and its counter is new; otherwise why it is refused.</summary>
    private DeviceMessage.Unreadable? Accept(GbcsHeader header, Eui64 device)
    {
        if (header.Originator != device || header.Recipient != acb)
        {
            return new DeviceMessage.Unreadable($"the frame is from {header.Originator} to {header.Recipient}, not from {device} to {acb}");
        }
        return deviceCounters.TryAccept(header) ? null : new DeviceMessage.Unreadable($"replayed frame: counter {header.Counter} from {device} is not above {deviceCounters.LastAccepted(device)}");
    }

    private GbcsMacKey KeyFor(Eui64 device) => keys.GetOrAdd(device, static (id, self) =>
    {
        using var peer = self.deviceKeys.FindKeyAgreementKey(id) ?? throw new InvalidOperationException($"no key-agreement key is known for device {id}");
        return GbcsMacKey.Derive(self.acbKeyAgreement, peer, self.acb, id);
    }, this);
}
