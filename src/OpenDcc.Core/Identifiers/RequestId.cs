using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A DUIS RequestID, <c>ORIGINATOR:TARGET:COUNTER</c>: the sending party's EUI-64, the EUI-64 of the device or party
/// the request is for, and a decimal 64-bit counter, e.g. <c>90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A4:1000</c>.
/// </summary>
/// <remarks>
/// Parsing trims surrounding whitespace and rejects any inside. Each EUI-64 may be in any form
/// <see cref="Eui64.Parse"/> accepts; <see cref="ToString"/> writes the DUIS hyphenated form. The counter is decimal
/// digits only, 0 to 18446744073709551615; leading zeros are accepted and not written back.
/// </remarks>
public readonly record struct RequestId(Eui64 Originator, Eui64 Target, ulong Counter) : IComparable<RequestId>
{
    public static RequestId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out RequestId result) => TryParse(text, out result, out _);

    public static bool TryParse(string? text, out RequestId result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "Request ID is empty";
            return false;
        }
        var s = text.Trim();
        if (s.Any(char.IsWhiteSpace))
        {
            error = $"Request ID '{s}' contains whitespace";
            return false;
        }
        var parts = s.Split(':');
        if (parts.Length != 3)
        {
            error = $"Request ID '{s}' must be ORIGINATOR:TARGET:COUNTER, three parts separated by ':', not {parts.Length}";
            return false;
        }
        if (!Eui64.TryParse(parts[0], out var originator, out var originatorError))
        {
            error = $"Request ID '{s}' has an invalid originator: {originatorError}";
            return false;
        }
        if (!Eui64.TryParse(parts[1], out var target, out var targetError))
        {
            error = $"Request ID '{s}' has an invalid target: {targetError}";
            return false;
        }
        var counter = parts[2];
        if (counter.Length == 0 || counter.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = $"Request ID '{s}' has counter '{counter}', which must be decimal digits";
            return false;
        }
        if (!ulong.TryParse(counter, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            error = $"Request ID '{s}' has counter {counter}, which exceeds the largest 64-bit counter {ulong.MaxValue}";
            return false;
        }
        result = new RequestId(originator, target, value);
        error = null;
        return true;
    }

    /// <summary>
    /// The DUIS ResponseID for a response to this request: the same counter with originator and target swapped,
    /// so the responding device or party is the originator.
    /// </summary>
    public RequestId ToResponseId() => new(Target, Originator, Counter);

    /// <summary>The DUIS form, <c>ORIGINATOR:TARGET:COUNTER</c> with hyphenated upper-case EUI-64s.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Originator}:{Target}:{Counter}");

    /// <summary>Orders by originator, then target, then counter.</summary>
    public int CompareTo(RequestId other)
    {
        var order = Originator.CompareTo(other.Originator);
        if (order == 0)
        {
            order = Target.CompareTo(other.Target);
        }
        return order != 0 ? order : Counter.CompareTo(other.Counter);
    }
}
