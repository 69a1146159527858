using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OpenDcc.Core.Identifiers;

/// <summary>
/// A 64-bit extended unique identifier as DUIS writes it: eight upper-case hex pairs joined by hyphens,
/// e.g. <c>90-B3-D5-1F-30-01-00-00</c>. Identifies DCC users (business originator IDs) and devices.
/// </summary>
public readonly record struct Eui64 : IComparable<Eui64>
{
    private readonly ulong value;

    public Eui64(ulong value) => this.value = value;

    public ulong Value => value;

    public static Eui64 Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var result, out var error) ? result : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out Eui64 result) => TryParse(text, out result, out _);

    /// <summary>Parses DUIS form; also accepts 16 hex digits without separators, as certificates and GBCS carry them.</summary>
    public static bool TryParse(string? text, out Eui64 result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "EUI-64 is empty";
            return false;
        }
        var s = text.Trim();
        string hex;
        if (s.Length == 23)
        {
            for (var i = 2; i < 23; i += 3)
            {
                if (s[i] != '-')
                {
                    error = $"EUI-64 '{s}' must separate its eight hex pairs with '-' (position {i + 1} is '{s[i]}')";
                    return false;
                }
            }
            hex = s.Replace("-", "", StringComparison.Ordinal);
        }
        else if (s.Length == 16)
        {
            hex = s;
        }
        else
        {
            error = $"EUI-64 '{s}' must be eight hex pairs like 90-B3-D5-1F-30-01-00-00";
            return false;
        }
        for (var i = 0; i < hex.Length; i++)
        {
            if (!char.IsAsciiHexDigit(hex[i]))
            {
                error = $"EUI-64 '{s}' has a non-hex character '{hex[i]}'";
                return false;
            }
        }
        result = new Eui64(ulong.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        error = null;
        return true;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    public static Eui64 FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 8
            ? new Eui64(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes))
            : throw new FormatException($"EUI-64 must be 8 bytes, not {bytes.Length}");

    /// <summary>Sixteen upper-case hex digits without separators.</summary>
    public string ToCompactString() => value.ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>Eight upper-case hex pairs joined by hyphens, as DUIS writes them.</summary>
    public override string ToString() => string.Create(23, value, static (chars, v) =>
    {
        const string hex = "0123456789ABCDEF";
        for (var i = 0; i < 8; i++)
        {
            var b = (int)(v >> (56 - (8 * i))) & 0xFF;
            chars[i * 3] = hex[b >> 4];
            chars[(i * 3) + 1] = hex[b & 0xF];
            if (i < 7)
            {
                chars[(i * 3) + 2] = '-';
            }
        }
    });

    public int CompareTo(Eui64 other) => value.CompareTo(other.value);
}
