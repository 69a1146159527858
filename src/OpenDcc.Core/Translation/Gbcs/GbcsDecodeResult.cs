using System.Diagnostics.CodeAnalysis;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>Why a GBCS frame was refused.</summary>
public enum GbcsFailure
{
    None,

    /// <summary>Shorter than a header and a tag, or shorter than its header's payload length says.</summary>
    Truncated,

    /// <summary>Longer than its header's payload length says.</summary>
    LengthMismatch,

    /// <summary>The MAC tag does not verify under the key: tampered, or sent under another device's key.</summary>
    BadMac,

    /// <summary>The magic/version byte is not one this codec speaks.</summary>
    UnsupportedVersion,

    /// <summary>A response or alert where a command was expected, or the other way round.</summary>
    WrongDirection,

    /// <summary>The message code is not in <see cref="GbcsMessageCodes"/> for the frame's direction.</summary>
    UnknownMessageCode,

    /// <summary>The payload does not parse as the message code's fields.</summary>
    MalformedPayload,

    /// <summary>A critical command's signature block is neither empty (a pre-command) nor one signature long.</summary>
    MalformedSignature,

    /// <summary>A critical command with an empty signature block where a signed one was expected.</summary>
    Unsigned,
}

/// <summary>A decoded GBCS frame, or why it was refused. Decoding never throws on bad input; it returns one of these.</summary>
public sealed class GbcsDecodeResult<T>
    where T : class
{
    private GbcsDecodeResult(T? value, GbcsHeader header, ushort messageCode, GbcsFailure failure, string? reason)
    {
        Value = value;
        Header = header;
        MessageCode = messageCode;
        Failure = failure;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Reason))]
    public bool Succeeded => Failure == GbcsFailure.None;

    public T? Value { get; }

    /// <summary>The header as read; meaningful only when <see cref="Succeeded"/>.</summary>
    public GbcsHeader Header { get; }

    public ushort MessageCode { get; }

    public GbcsFailure Failure { get; }

    /// <summary>One line for a log or an error response; null on success.</summary>
    public string? Reason { get; }

    internal static GbcsDecodeResult<T> Success(GbcsHeader header, ushort messageCode, T value) =>
        new(value, header, messageCode, GbcsFailure.None, null);

    internal static GbcsDecodeResult<T> Fail(GbcsFailure failure, string reason) =>
        new(null, default, 0, failure, reason);

    public override string ToString() => Succeeded ? $"{Value} ({Header})" : $"{Failure}: {Reason}";
}
