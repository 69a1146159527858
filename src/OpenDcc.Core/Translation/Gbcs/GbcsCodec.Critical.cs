using System.Buffers.Binary;
using System.Security.Cryptography;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// A critical command as the GBCS common stages build it (duis-and-dcc.md §1.7): the DSP's Transform constructs it,
/// the Known Remote Party (the supplier) signs it, the access control broker adds its MAC, and the device checks the
/// MAC, the counter and the signature against the remote party key it holds as a trust anchor.
/// <code>
/// offset   size
///      0     32  grouping header (GbcsCodec), direction CriticalCommand (0x04); originator = the Known Remote
///                Party, counter = its originator counter (the DUIS RequestID counter of the Transform request)
///     32      n  payload (the operation's fields, as in a command frame)
///   32+n      1  signature length s: 0 in a pre-command, 64 once signed
///   33+n      s  the remote party's signature (CommandSignature: ECDSA P-256, SHA-256, r‖s) over bytes [0, 32+n)
/// 33+n+s     12  the ACB's MAC tag (AES-128-GMAC as in GbcsCodec) over bytes [0, 33+n+s); only on the SM WAN
/// </code>
/// A pre-command ends in a null signature byte, as DUIS has Transform return it (§1.4, the gbcs-parser note).
/// </summary>
public static partial class GbcsCodec
{
    /// <summary>Transform (DUIS CV 4): the critical command without signature or MAC, for the remote party to sign.</summary>
    public static byte[] EncodePreCommand(GbcsHeader header, DeviceOperation operation)
    {
        var code = GbcsMessageCodes.For(operation);
        var payload = OperationFields(operation).Written;
        var preCommand = new byte[HeaderLength + payload.Length + 1];
        WriteHeader(preCommand, GbcsDirection.CriticalCommand, code, header, payload.Length);
        payload.CopyTo(preCommand.AsSpan(HeaderLength));
        preCommand[^1] = 0; // the null signature
        return preCommand;
    }

    /// <summary>
    /// What the remote party does with a pre-command: signs bytes [0, 32+n) with its Digital Signing key and puts the
    /// signature in the signature block. The result is the DUIS SignedPreCommand's GBCSPayload.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="preCommand"/> is not an unsigned pre-command.</exception>
    public static byte[] SignPreCommand(ReadOnlySpan<byte> preCommand, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var read = ReadPreCommand(preCommand);
        if (!read.Succeeded || read.Value.IsSigned)
        {
            throw new ArgumentException(read.Succeeded ? "the pre-command is already signed" : $"not a pre-command: {read.Reason}", nameof(preCommand));
        }
        var content = preCommand[..^1];
        var signature = CommandSignature.Sign(content, key);
        var signed = new byte[content.Length + 1 + signature.Length];
        content.CopyTo(signed);
        signed[content.Length] = (byte)signature.Length;
        signature.CopyTo(signed.AsSpan(content.Length + 1));
        return signed;
    }

    /// <summary>
    /// Reads a pre-command, signed or not, without a MAC: what Transform produced or what a user sends back. Checks
    /// the structure and the payload; whether the signature is right is for <see cref="CommandSignature"/>.
    /// Never throws on bad input.
    /// </summary>
    public static GbcsDecodeResult<GbcsCriticalCommand> ReadPreCommand(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderLength + 1)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.Truncated, $"{bytes.Length} bytes are shorter than a header and a signature length ({HeaderLength + 1})");
        }
        if (bytes[0] != MagicVersion)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.UnsupportedVersion, $"magic/version byte is 0x{bytes[0]:X2}, not 0x{MagicVersion:X2}");
        }
        if ((GbcsDirection)bytes[1] != GbcsDirection.CriticalCommand)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.WrongDirection, $"direction byte 0x{bytes[1]:X2} is not a critical command (0x{(byte)GbcsDirection.CriticalCommand:X2})");
        }
        long declared = BinaryPrimitives.ReadUInt32BigEndian(bytes[LengthOffset..]);
        long signatureAt = HeaderLength + declared;
        if (bytes.Length <= signatureAt)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.Truncated, $"{bytes.Length} bytes end before the signature length its payload length ({declared}) puts at {signatureAt}");
        }
        int signatureLength = bytes[(int)signatureAt];
        if (signatureLength is not (0 or CommandSignature.Length))
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.MalformedSignature, $"signature length {signatureLength} is neither 0 (a pre-command) nor {CommandSignature.Length}");
        }
        var expected = signatureAt + 1 + signatureLength;
        if (bytes.Length != expected)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(
                bytes.Length < expected ? GbcsFailure.Truncated : GbcsFailure.LengthMismatch,
                $"{bytes.Length} bytes, but the payload length ({declared}) and signature length ({signatureLength}) say {expected}");
        }
        var header = ReadHeader(bytes);
        var operation = Payload<DeviceOperation>(bytes, (int)declared, header, GbcsDirection.CriticalCommand, ReadOperation);
        if (!operation.Succeeded)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(operation.Failure, operation.Reason);
        }
        var command = new GbcsCriticalCommand(operation.Value, bytes[..(int)signatureAt].ToArray(), bytes[(int)(signatureAt + 1)..].ToArray());
        return GbcsDecodeResult<GbcsCriticalCommand>.Success(header, operation.MessageCode, command);
    }

    /// <summary>The access control broker's step: the MAC over a signed pre-command, under the key it shares with the device.</summary>
    /// <exception cref="ArgumentException"><paramref name="signedPreCommand"/> is not a signed pre-command.</exception>
    public static byte[] ProtectCriticalCommand(ReadOnlySpan<byte> signedPreCommand, GbcsMacKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var read = ReadPreCommand(signedPreCommand);
        if (!read.Succeeded || !read.Value.IsSigned)
        {
            throw new ArgumentException(read.Succeeded ? "the pre-command is not signed" : $"not a signed pre-command: {read.Reason}", nameof(signedPreCommand));
        }
        var frame = new byte[signedPreCommand.Length + GbcsMacKey.TagLength];
        signedPreCommand.CopyTo(frame);
        key.ComputeTag(signedPreCommand[..IvLength], signedPreCommand, frame.AsSpan(signedPreCommand.Length));
        return frame;
    }

    /// <summary>
    /// The device's read of a critical command from the SM WAN: the MAC first, then the structure; the command must be
    /// signed. The signature itself is the device's next check, against its trust anchor (<see cref="CommandSignature.Verify"/>).
    /// </summary>
    public static GbcsDecodeResult<GbcsCriticalCommand> DecodeCriticalCommand(ReadOnlySpan<byte> frame, GbcsMacKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (frame.Length < HeaderLength + 1 + GbcsMacKey.TagLength)
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.Truncated, $"frame of {frame.Length} bytes is shorter than a header, a signature length and a MAC tag");
        }
        var header = ReadHeader(frame);
        var authenticated = frame[..^GbcsMacKey.TagLength];
        if (!key.VerifyTag(frame[..IvLength], authenticated, frame[^GbcsMacKey.TagLength..]))
        {
            return GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.BadMac, $"MAC of the critical command from {header.Originator} (counter {header.Counter}) does not verify under this key");
        }
        var read = ReadPreCommand(authenticated);
        return read.Succeeded && !read.Value.IsSigned
            ? GbcsDecodeResult<GbcsCriticalCommand>.Fail(GbcsFailure.Unsigned, $"the critical command from {header.Originator} carries no signature")
            : read;
    }

    private static void WriteHeader(Span<byte> frame, GbcsDirection direction, ushort code, GbcsHeader header, int payloadLength)
    {
        frame[0] = MagicVersion;
        frame[1] = (byte)direction;
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], code);
        BinaryPrimitives.WriteUInt64BigEndian(frame[CounterOffset..], header.Counter);
        BinaryPrimitives.WriteUInt64BigEndian(frame[OriginatorOffset..], header.Originator.Value);
        BinaryPrimitives.WriteUInt64BigEndian(frame[RecipientOffset..], header.Recipient.Value);
        BinaryPrimitives.WriteUInt32BigEndian(frame[LengthOffset..], (uint)payloadLength);
    }
}

/// <summary>A critical command as read: the operation, the bytes the remote party signs, and its signature (empty in a pre-command).</summary>
public sealed record GbcsCriticalCommand(DeviceOperation Operation, ReadOnlyMemory<byte> SignedContent, ReadOnlyMemory<byte> Signature)
{
    public bool IsSigned => Signature.Length == CommandSignature.Length;
}
