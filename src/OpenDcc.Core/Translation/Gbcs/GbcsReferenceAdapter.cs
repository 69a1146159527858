using System.Collections.Concurrent;
using System.Security.Cryptography;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// The reference adapter for GBCS-like devices (ESME, GSME): each operation becomes a <see cref="GbcsCodec"/>
/// command frame from the Access Control Broker, MACed with the key the ACB shares with that device (ECDH P-256 of
/// the ACB's key-agreement key and the device's, through the SHA-256 KDF); the device's answer is checked (MAC, and
/// the counter of the command it answers, as a GBCS response carries its command's) and goes to the user as the DUIS
/// GBCSPayload unchanged, as GBCS answers do; an alert's counter, the device's own, must rise. Critical commands are
/// GBCS critical-command frames (GbcsCodec.Critical.cs): a pre-command at Transform, signed by the user, MACed here.
/// </summary>
public sealed class GbcsReferenceAdapter(Eui64 acb, ECDiffieHellman acbKeyAgreement, IDeviceKeyDirectory deviceKeys) : ITranslationAdapter, ICriticalCommandTranslation, IDisposable
{
    public const string AdapterName = "gbcs-reference";

    private readonly Eui64 acb = acb;
    private readonly ECDiffieHellman acbKeyAgreement = acbKeyAgreement;
    private readonly IDeviceKeyDirectory deviceKeys = deviceKeys;

    private readonly ConcurrentDictionary<Eui64, DerivedKey> keys = new();
    private readonly AwaitedAnswers answers = new();

    public string Name => AdapterName;

    /// <summary>Meters (ESME, GSME) take every operation but the changes of the device log, which only a comms hub function (CHF) keeps (and reads, as meters read theirs); the gas proxy function (GPF) takes the gas meter's reads.</summary>
    public bool Carries(DeviceOperation operation, DeviceType type) => operation switch
    {
        DeviceOperation.AddToDeviceLog or DeviceOperation.RemoveFromDeviceLog => type == DeviceType.CHF,
        // A comms hub's device log, or the devices a meter is joined to.
        DeviceOperation.ReadDeviceLog => type is DeviceType.CHF or DeviceType.ESME or DeviceType.GSME,
        // As GBCS has them (GCS13a, GCS60a, GCS61): the gas meter's register, balance and consumption log are read from
        // its copy on the gas proxy function, as well as from the meter itself.
        DeviceOperation.ReadImportRegisters or DeviceOperation.ReadMeterBalance or DeviceOperation.ReadProfile => type is DeviceType.ESME or DeviceType.GSME or DeviceType.GPF,
        _ => type is DeviceType.ESME or DeviceType.GSME,
    };

    public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter)
    {
        var frame = ToLocalDelivery(operation, device, counter);
        answers.Expect(device, counter, acb);
        return frame;
    }

    /// <summary>GBCS meters take commands over their HAN as over the WAN: the same frame, the ACB's MAC on it.</summary>
    public byte[] ToLocalDelivery(DeviceOperation operation, Eui64 device, ulong counter) =>
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

    public byte[] ToDevice(ReadOnlySpan<byte> signedPreCommand, Eui64 device)
    {
        var frame = ToLocalDelivery(signedPreCommand, device);
        // Its counter is the user's, set at Transform; the answer carries it, and goes to the user, who signed it.
        var read = GbcsCodec.ReadPreCommand(signedPreCommand);
        if (read.Succeeded)
        {
            answers.Expect(device, read.Header.Counter, read.Header.Originator);
        }
        return frame;
    }

    public byte[] ToLocalDelivery(ReadOnlySpan<byte> signedPreCommand, Eui64 device) => GbcsCodec.ProtectCriticalCommand(signedPreCommand, KeyFor(device));

    public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device)
    {
        using var reading = ReadingKeyFor(device, out var noKey);
        if (reading.Key is not { } key)
        {
            return new DeviceMessage.Unreadable(noKey!);
        }
        // The frame says whether it answers a command or is an alert: one decode, one MAC check.
        if (GbcsCodec.DirectionOf(message) == GbcsDirection.Alert)
        {
            var alert = GbcsCodec.DecodeAlert(message, key);
            return !alert.Succeeded ? new DeviceMessage.Unreadable(alert.Reason!)
                // Its counter rising is checked by OpenDcc against the last alert it took from the device, kept in its store.
                : (DeviceMessage?)Misaddressed(alert.Header, device) ?? new DeviceMessage.Alert(alert.Value!, message.ToArray(), alert.Header.Counter);
        }
        var response = GbcsCodec.DecodeResponse(message, key);
        return !response.Succeeded ? new DeviceMessage.Unreadable(response.Reason!)
            : (DeviceMessage?)AcceptAnswer(response.Header, device) ?? new DeviceMessage.Answer(response.Value!, message.ToArray());
    }

    /// <summary>
    /// The answer carries its command's counter and goes to the party that sent it (the ACB, or the user that signed a
    /// critical command): both must be the command's, so an answer to any other command of the device (the ACB's
    /// counters only rise; a user's critical counters go on only rising, ICriticalCounterStore) does not pass for it.
    /// </summary>
    public DeviceMessage FromLocalDelivery(ReadOnlySpan<byte> answer, Eui64 device, ReadOnlySpan<byte> command)
    {
        if (GbcsCodec.HeaderOf(command) is not { } sent)
        {
            return new DeviceMessage.Unreadable("the command given for local delivery is not a frame of this format");
        }
        using var reading = ReadingKeyFor(device, out var noKey);
        if (reading.Key is not { } key)
        {
            return new DeviceMessage.Unreadable(noKey!);
        }
        var response = GbcsCodec.DecodeResponse(answer, key);
        if (!response.Succeeded)
        {
            return new DeviceMessage.Unreadable(response.Reason!);
        }
        var header = response.Header;
        return header.Originator == device && header.Recipient == sent.Originator && header.Counter == sent.Counter
            ? new DeviceMessage.Answer(response.Value!, answer.ToArray())
            : new DeviceMessage.Unreadable($"it is from {header.Originator} to {header.Recipient} under counter {header.Counter}, not {device}'s answer to {sent.Originator} under the command's counter {sent.Counter}");
    }

    public void Release(Eui64 device)
    {
        // Not disposed: an alert being read may hold it; its native context goes with the garbage collector.
        keys.TryRemove(device, out _);
        answers.Forget(device);
    }

    public DeviceOutcome? ReadAnswerPayload(ReadOnlySpan<byte> duisPayload, Eui64 device)
    {
        using var reading = ReadingKeyFor(device, out _);
        if (reading.Key is not { } key)
        {
            return null;
        }
        // The payload is the device's own frame: its MAC, from the device to the ACB.
        var response = GbcsCodec.DecodeResponse(duisPayload, key);
        return response.Succeeded && response.Header.Originator == device && response.Header.Recipient == acb ? response.Value : null;
    }

    public void Dispose()
    {
        foreach (var derived in keys.Values)
        {
            derived.Key.Dispose();
        }
    }

    /// <summary>
    /// Null when the frame comes from the device and answers the command in flight to it (its counter, and addressed to
    /// whoever sent it: the ACB, or the user that signed a critical command); otherwise why it is refused.
    /// </summary>
    private DeviceMessage.Unreadable? AcceptAnswer(GbcsHeader header, Eui64 device) =>
        header.Originator != device ? new DeviceMessage.Unreadable($"the frame is from {header.Originator}, not {device}")
        : answers.TryAccept(device, header.Counter, header.Recipient) ? null
        : new DeviceMessage.Unreadable($"not the answer to the command in flight: counter {header.Counter} to {header.Recipient} from {device}, awaited {answers.Awaited(device)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");

    private DeviceMessage.Unreadable? Misaddressed(GbcsHeader header, Eui64 device) =>
        header.Originator != device || header.Recipient != acb
            ? new DeviceMessage.Unreadable($"the frame is from {header.Originator} to {header.Recipient}, not from {device} to {acb}")
            : null;

    /// <summary>
    /// The key to read what the device sent, or none with why: reading never throws for a device the SM WAN has no key
    /// for (<see cref="KeyFor"/> throws <see cref="Wan.DeviceUnreachableException"/> for it). The key kept for the
    /// device while a command of this adapter's goes to it; otherwise (an alert from an idle device, an answer its user
    /// brought back from local delivery, a payload read back) one derived for this read alone and cleared when the
    /// result is disposed, since nothing would release a kept one: every device that ever alerted kept its key for as
    /// long as the hub ran (<see cref="Release"/> comes only from the comms hub grain that sent it commands).
    /// </summary>
    private ReadingKey ReadingKeyFor(Eui64 device, out string? reason)
    {
        var reading = ReadingKey.KeptOr(Kept(device, deviceKeys.KeyVersion(device)), () => Derive(device));
        reason = reading.Key is null ? NoKeyAgreementKey(device).Message : null;
        return reading;
    }

    private static Wan.DeviceUnreachableException NoKeyAgreementKey(Eui64 device) =>
        new(device, "the SM WAN knows no key-agreement key for it (no such device on the WAN)");

    /// <summary>The MAC key kept for the device, if it was derived under the directory's key version <paramref name="version"/>.</summary>
    private GbcsMacKey? Kept(Eui64 device, long version) =>
        keys.TryGetValue(device, out var derived) && derived.Version == version ? derived.Key : null;

    /// <summary>A MAC key derived with the device's key-agreement key; null when the SM WAN has none for it.</summary>
    private GbcsMacKey? Derive(Eui64 device)
    {
        using var peer = deviceKeys.FindKeyAgreementKey(device);
        return peer is null ? null : GbcsMacKey.Derive(acbKeyAgreement, peer, acb, device);
    }

    /// <summary>
    /// The MAC key derived with the device's key-agreement key, derived again once the directory lists another
    /// (<see cref="IDeviceKeyDirectory.KeyVersion"/>): a WAN connected again may list other keys for the same devices.
    /// </summary>
    private GbcsMacKey KeyFor(Eui64 device)
    {
        // The version before the key: a key changed in between is derived again at the next frame, never kept stale.
        var version = deviceKeys.KeyVersion(device);
        if (Kept(device, version) is { } kept)
        {
            return kept;
        }
        // No key: the SM WAN has no such device (in the inventory, never installed or commissioned on the WAN).
        var key = Derive(device) ?? throw NoKeyAgreementKey(device);
        // The one replaced is not disposed: a frame being read may hold it (as in Release).
        keys[device] = new DerivedKey(key, version);
        return key;
    }

    /// <summary>How many devices' MAC keys are kept (for tests: only devices with commands sent since their last <see cref="Release"/>).</summary>
    internal int KeysKept => keys.Count;

    private sealed record DerivedKey(GbcsMacKey Key, long Version);
}
