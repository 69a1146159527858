using System.Security.Cryptography;
using System.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;
using OpenDcc.Core.Translation.Gbcs;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>What an early-smart meter sends is read, translated into a GBCS-like frame, or refused: never thrown on.</summary>
public sealed class EarlySmartReferenceAdapterTests : IDisposable
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-E5");
    private readonly EarlySmartReferenceAdapter adapter = new(Acb, RandomNumberGenerator.GetBytes(32));

    /// <summary>Answers with a text field one byte longer than a GBCS string field holds, by name.</summary>
    public static TheoryData<string> TooLongForAFrame => ["run", "pend", "txt"];

    [Theory]
    [MemberData(nameof(TooLongForAFrame))]
    public void An_answer_with_text_longer_than_a_frame_holds_is_unreadable_naming_the_field(string field)
    {
        var tooLong = new string('1', GbcsCodec.MostFieldBytes + 1);
        DeviceOutcome outcome = field switch
        {
            "run" => new DeviceOutcome.FirmwareVersion(tooLong, null),
            "pend" => new DeviceOutcome.FirmwareVersion("1.0", tooLong),
            // Short enough in characters, too long in UTF-8 bytes.
            _ => new DeviceOutcome.Refused(RefusalReason.InvalidState, new string('é', (GbcsCodec.MostFieldBytes / 2) + 1)),
        };
        adapter.ToDevice(new DeviceOperation.ReadFirmwareVersion(), Meter, 7);

        var read = adapter.FromDevice(Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeResponse(new EarlySmartHeader(7, Meter), outcome)), Meter);

        Assert.Contains($"field '{field}' is", Assert.IsType<DeviceMessage.Unreadable>(read).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_of_the_most_a_frame_holds_is_translated()
    {
        var running = new string('1', GbcsCodec.MostFieldBytes);
        adapter.ToDevice(new DeviceOperation.ReadFirmwareVersion(), Meter, 7);

        var read = adapter.FromDevice(Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeResponse(new EarlySmartHeader(7, Meter), new DeviceOutcome.FirmwareVersion(running, null))), Meter);

        var answer = Assert.IsType<DeviceMessage.Answer>(read);
        Assert.Equal(new DeviceOutcome.FirmwareVersion(running, null), adapter.ReadAnswerPayload(answer.DuisPayload.Span, Meter));
    }

    public void Dispose() => adapter.Dispose();
}
