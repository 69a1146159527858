using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>Generators of message log records for the hash chain properties.</summary>
internal static class MessageLogGenerators
{
    /// <summary>Well-formed text (no lone surrogates: what arrives in parsed XML or a response code).</summary>
    public static Gen<string> Text =>
        Gen.ArrayOf(Gen.OneOf(Gen.Choose(0x20, 0x7E), Gen.Choose(0xA0, 0xD7FF)).Select(c => (char)c)).Select(cs => new string(cs));

    public static Gen<string?> OptionalText => Gen.OneOf(Gen.Constant<string?>(null), Text.Select(t => (string?)t));

    /// <summary>Instants at the 100 ns tick resolution the hash covers, 1970 to 2033.</summary>
    public static Gen<Instant> At =>
        from seconds in Gen.Choose(0, 2_000_000_000)
        from ticks in Gen.Choose(0, 9_999_999)
        select Instant.FromUnixTimeTicks((seconds * 10_000_000L) + ticks);

    public static Gen<Eui64?> User =>
        Gen.OneOf(
            Gen.Constant<Eui64?>(null),
            ArbMap.Default.GeneratorFor<DoNotSize<ulong>>().Select(v => (Eui64?)new Eui64(v.Item)));

    public static Gen<byte[]> Payload => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));

    public static Gen<MessageLogRecord> LogRecord =>
        from at in At
        from direction in Gen.Elements(MessageDirection.Inbound, MessageDirection.Outbound)
        from user in User
        from correlation in OptionalText
        from outcome in Text
        from payload in Payload
        select new MessageLogRecord(at, direction, user, correlation, outcome, payload);

    public static Gen<long> Sequence => Gen.Choose(1, int.MaxValue).Select(s => (long)s);

    public static Gen<byte[]> Hash => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32);
}
