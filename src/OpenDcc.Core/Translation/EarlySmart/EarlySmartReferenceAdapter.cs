using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Translation.EarlySmart;

/// <summary>
/// The reference adapter for "early smart" meters, which speak a proprietary text line protocol
/// (<see cref="EarlySmartCodec"/>: a rising sequence number and a CRC-32, no cryptography of their own). Their
/// answers reach users translated into the same GBCS-like frame GBCS meters send (as the DCC's SMETS1 service
/// translates SMETS1 answers), MACed by OpenDcc under a per-device translation key, so a user reads one format.
/// </summary>
/// <param name="acb">The originator OpenDcc writes into translated frames' headers as recipient, as a device would.</param>
/// <param name="translationSecret">32 or more secret bytes from the key store; the per-device key is HMAC-SHA256 of the device ID under it.</param>
public sealed class EarlySmartReferenceAdapter(Eui64 acb, byte[] translationSecret) : ITranslationAdapter, IDisposable
{
    public const string AdapterName = "early-smart-reference";

    private readonly byte[] secret = translationSecret.Length >= 32 ? translationSecret : throw new ArgumentException("the translation secret needs at least 32 bytes", nameof(translationSecret));
    private readonly ConcurrentDictionary<Eui64, GbcsMacKey> keys = new();
    private readonly EarlySmartSequenceGuard alertSequences = new();
    private readonly AwaitedAnswers answers = new();
    private long translatedCounter;

    public string Name => AdapterName;

    /// <summary>Early-smart meters (ESME, GSME); their comms hubs keep no device log this format reaches.</summary>
    public bool Carries(DeviceOperation operation, DeviceType type) =>
        type is DeviceType.ESME or DeviceType.GSME && operation is not (DeviceOperation.AddToDeviceLog or DeviceOperation.RemoveFromDeviceLog);

    public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter)
    {
        var line = Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeCommand(new EarlySmartHeader(counter, device), operation));
        answers.Expect(device, counter);
        return line;
    }

    public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device)
    {
        string line;
        try
        {
            line = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(message);
        }
        catch (DecoderFallbackException)
        {
            return new DeviceMessage.Unreadable("not UTF-8 text");
        }
        var response = EarlySmartCodec.DecodeResponse(line);
        if (response.Succeeded)
        {
            return (DeviceMessage?)(Untranslatable(response.Value) ?? AcceptAnswer(response.Header, device))
                ?? new DeviceMessage.Answer(response.Value!, GbcsCodec.EncodeResponse(TranslatedHeader(device), response.Value!, KeyFor(device)));
        }
        var alert = EarlySmartCodec.DecodeAlert(line);
        if (alert.Succeeded)
        {
            if (AcceptAlert(alert.Header, device) is { } refused)
            {
                return refused;
            }
            // Not kept: an alert comes from a device with no command in flight as often as not, and nothing would
            // release its key (Release comes from the comms hub grain that sent it commands).
            using var reading = ReadingKeyFor(device);
            return new DeviceMessage.Alert(alert.Value!, GbcsCodec.EncodeAlert(TranslatedHeader(device), alert.Value!, reading.Key!), Counter: null);
        }
        return new DeviceMessage.Unreadable(response.Reason ?? "not an early-smart line");
    }

    /// <summary>The key translated frames from <paramref name="device"/> are MACed under, for those entitled to check them.</summary>
    public GbcsMacKey KeyFor(Eui64 device) => keys.GetOrAdd(device, static (id, adapter) => adapter.DeriveKey(id), this);

    public DeviceOutcome? ReadAnswerPayload(ReadOnlySpan<byte> duisPayload, Eui64 device)
    {
        // The payload is the translated frame, MACed under the device's translation key; one derived for this read is
        // not kept (a read back comes from no command of this adapter's, so nothing would release it).
        using var reading = ReadingKeyFor(device);
        var response = GbcsCodec.DecodeResponse(duisPayload, reading.Key!);
        return response.Succeeded && response.Header.Originator == device && response.Header.Recipient == acb ? response.Value : null;
    }

    /// <summary>How many devices' translation keys are kept (for tests: only devices with commands sent since their last <see cref="Release"/>).</summary>
    internal int KeysKept => keys.Count;

    public void Release(Eui64 device)
    {
        // Derived again from the secret when next needed; not disposed, as an alert being translated may hold it.
        keys.TryRemove(device, out _);
        answers.Forget(device);
    }

    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
    }

    /// <summary>The key kept for the device while commands go to it, or one derived for this read alone (<see cref="ReadingKey"/>).</summary>
    private ReadingKey ReadingKeyFor(Eui64 device) => ReadingKey.KeptOr(keys.GetValueOrDefault(device), () => DeriveKey(device));

    private GbcsMacKey DeriveKey(Eui64 device)
    {
        Span<byte> eui = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(eui, device.Value);
        return GbcsMacKey.FromBytes(HMACSHA256.HashData(secret, eui)[..GbcsMacKey.KeyLength]);
    }

    private GbcsHeader TranslatedHeader(Eui64 device) => new((ulong)Interlocked.Increment(ref translatedCounter), device, acb);

    /// <summary>Null when the line comes from the device and answers the command in flight to it (its sequence is the command's).</summary>
    private DeviceMessage.Unreadable? AcceptAnswer(EarlySmartHeader header, Eui64 device) =>
        Misaddressed(header, device) ?? (answers.TryAccept(device, header.Sequence) ? null
            : new DeviceMessage.Unreadable($"not the answer to the command in flight: sequence {header.Sequence} from {device}, awaited {answers.Awaited(device)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}"));

    private DeviceMessage.Unreadable? AcceptAlert(EarlySmartHeader header, Eui64 device) =>
        Misaddressed(header, device) ?? (alertSequences.TryAccept(header) ? null
            : new DeviceMessage.Unreadable($"replayed line: sequence {header.Sequence} from {device} is not above {alertSequences.LastAccepted(device)}"));

    /// <summary>
    /// Null when the answer fits the frame it is translated into; otherwise why not: a line's text has no length limit,
    /// but a GBCS string field holds <see cref="GbcsCodec.MostFieldBytes"/> bytes of UTF-8.
    /// </summary>
    private static DeviceMessage.Unreadable? Untranslatable(DeviceOutcome outcome)
    {
        (string Field, string? Text)[] texts = outcome switch
        {
            DeviceOutcome.FirmwareVersion firmware => [("run", firmware.Running), ("pend", firmware.Pending)],
            DeviceOutcome.Refused refused => [("txt", refused.Detail)],
            _ => [],
        };
        foreach (var (field, text) in texts)
        {
            if (text is not null && Encoding.UTF8.GetByteCount(text) is var bytes and > GbcsCodec.MostFieldBytes)
            {
                return new DeviceMessage.Unreadable($"field '{field}' is {bytes} bytes of UTF-8, more than the {GbcsCodec.MostFieldBytes} bytes a translated frame's text field holds");
            }
        }
        return null;
    }

    private static DeviceMessage.Unreadable? Misaddressed(EarlySmartHeader header, Eui64 device) =>
        header.Device != device ? new DeviceMessage.Unreadable($"the line is from {header.Device}, not {device}") : null;
}
