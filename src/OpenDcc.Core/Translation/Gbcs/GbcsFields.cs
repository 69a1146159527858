using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using NodaTime;

namespace OpenDcc.Core.Translation.Gbcs;

/// <summary>
/// Big-endian payload fields. Instants and durations are signed 64-bit counts of 100 ns ticks (Unix epoch for
/// instants), so anything finer than a tick is dropped; strings and byte strings are a 16-bit length then the bytes
/// (strings in UTF-8); an optional string is a presence byte (0 or 1) then the string.
/// </summary>
internal sealed class GbcsFieldWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ArrayBufferWriter<byte> buffer = new();

    public ReadOnlySpan<byte> Written => buffer.WrittenSpan;

    public void Byte(byte value) => Integer(value);

    public void UInt16(ushort value) => Integer(value);

    public void Int32(int value) => Integer(value);

    public void UInt32(uint value) => Integer(value);

    public void Int64(long value) => Integer(value);

    public void UInt64(ulong value) => Integer(value);

    public void Instant(Instant value) => Int64(value.ToUnixTimeTicks());

    public void Duration(Duration value) => Int64(value.BclCompatibleTicks);

    public void Bytes(ReadOnlySpan<byte> value)
    {
        if (value.Length > GbcsCodec.MostFieldBytes)
        {
            throw new ArgumentException($"A GBCS field holds at most {GbcsCodec.MostFieldBytes} bytes, not {value.Length}", nameof(value));
        }
        UInt16((ushort)value.Length);
        value.CopyTo(buffer.GetSpan(value.Length));
        buffer.Advance(value.Length);
    }

    public void String(string value) => Bytes(Utf8.GetBytes(value));

    public void OptionalString(string? value)
    {
        Byte(value is null ? (byte)0 : (byte)1);
        if (value is not null)
        {
            String(value);
        }
    }

    public void Enum<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        if (!System.Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a {typeof(TEnum).Name}");
        }
        Byte(Convert.ToByte(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>An integer in its type's whole width, big-endian.</summary>
    private void Integer<T>(T value)
        where T : IBinaryInteger<T> =>
        buffer.Advance(value.WriteBigEndian(buffer.GetSpan(value.GetByteCount())));
}

/// <summary>
/// Reads <see cref="GbcsFieldWriter"/>'s fields without throwing: a read past the end or a bad value records the
/// first error and returns a default, and the caller checks <see cref="Error"/> once at the end.
/// </summary>
internal ref struct GbcsFieldReader(ReadOnlySpan<byte> payload)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> payload = payload;
    private int position;

    public string? Error { get; private set; }

    public readonly bool AtEnd => position == payload.Length;

    public byte Byte() => Take(1, "byte") is { IsEmpty: false } s ? s[0] : (byte)0;

    public ushort UInt16() => Take(2, "16-bit field") is { IsEmpty: false } s ? BinaryPrimitives.ReadUInt16BigEndian(s) : (ushort)0;

    public int Int32() => Take(4, "32-bit field") is { IsEmpty: false } s ? BinaryPrimitives.ReadInt32BigEndian(s) : 0;

    public uint UInt32() => Take(4, "32-bit field") is { IsEmpty: false } s ? BinaryPrimitives.ReadUInt32BigEndian(s) : 0;

    public long Int64() => Take(8, "64-bit field") is { IsEmpty: false } s ? BinaryPrimitives.ReadInt64BigEndian(s) : 0;

    public Instant Instant()
    {
        var ticks = Int64();
        if (ticks < NodaTime.Instant.MinValue.ToUnixTimeTicks() || ticks > NodaTime.Instant.MaxValue.ToUnixTimeTicks())
        {
            Fail($"instant {ticks} ticks is outside the time line");
            return default;
        }
        return NodaTime.Instant.FromUnixTimeTicks(ticks);
    }

    public Duration Duration() => NodaTime.Duration.FromTicks(Int64());

    public byte[] Bytes()
    {
        var length = UInt16();
        return Take(length, "byte string").ToArray();
    }

    public string String()
    {
        var bytes = Bytes();
        try
        {
            return Utf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            Fail("a string is not valid UTF-8");
            return "";
        }
    }

    public string? OptionalString()
    {
        switch (Byte())
        {
            case 0:
                return null;
            case 1:
                return String();
            case var flag:
                Fail($"optional string presence byte is {flag}, not 0 or 1");
                return null;
        }
    }

    public TEnum Enum<TEnum>()
        where TEnum : struct, Enum
    {
        var raw = Byte();
        var value = (TEnum)System.Enum.ToObject(typeof(TEnum), raw);
        if (!System.Enum.IsDefined(value))
        {
            Fail($"{raw} is not a {typeof(TEnum).Name}");
        }
        return value;
    }

    public void Fail(string error) => Error ??= error;

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (Error is not null)
        {
            return default;
        }
        if (payload.Length - position < count)
        {
            Fail($"payload ends inside a {what} at byte {position}");
            return default;
        }
        var slice = payload.Slice(position, count);
        position += count;
        return slice;
    }
}
