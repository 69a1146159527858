using System.Diagnostics.CodeAnalysis;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Translation.EarlySmart;

/// <summary>The sequence number and the device a line is for (commands) or from (responses and alerts).</summary>
public readonly record struct EarlySmartHeader(ulong Sequence, Eui64 Device);

/// <summary>Why an early-smart line was refused.</summary>
public enum EarlySmartFailure
{
    None,

    /// <summary>Not six '|'-separated parts, or a sequence, device or checksum that does not parse.</summary>
    Malformed,

    /// <summary>The CRC-32 does not match the rest of the line.</summary>
    BadChecksum,

    /// <summary>The line does not start with <c>ES1</c>.</summary>
    UnsupportedVersion,

    /// <summary>A verb of another direction: a response where a command was expected, for example.</summary>
    WrongDirection,

    /// <summary>A verb this protocol does not have.</summary>
    UnknownVerb,

    /// <summary>A field missing, repeated, badly escaped or with a value that does not parse.</summary>
    MalformedFields,
}

/// <summary>A decoded early-smart line, or why it was refused. Decoding never throws on bad input.</summary>
public sealed class EarlySmartDecodeResult<T>
    where T : class
{
    private EarlySmartDecodeResult(T? value, EarlySmartHeader header, string? verb, EarlySmartFailure failure, string? reason)
    {
        Value = value;
        Header = header;
        Verb = verb;
        Failure = failure;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Value), nameof(Verb))]
    [MemberNotNullWhen(false, nameof(Reason))]
    public bool Succeeded => Failure == EarlySmartFailure.None;

    public T? Value { get; }

    /// <summary>The header as read; meaningful only when <see cref="Succeeded"/>.</summary>
    public EarlySmartHeader Header { get; }

    public string? Verb { get; }

    public EarlySmartFailure Failure { get; }

    /// <summary>One line for a log or an error response; null on success.</summary>
    public string? Reason { get; }

    internal static EarlySmartDecodeResult<T> Success(EarlySmartHeader header, string verb, T value) =>
        new(value, header, verb, EarlySmartFailure.None, null);

    internal static EarlySmartDecodeResult<T> Fail(EarlySmartFailure failure, string reason) =>
        new(null, default, null, failure, reason);

    public override string ToString() => Succeeded ? $"{Verb} {Value} ({Header})" : $"{Failure}: {Reason}";
}
