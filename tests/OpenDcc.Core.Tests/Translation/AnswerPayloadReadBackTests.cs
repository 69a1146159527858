using System.Security.Cryptography;
using System.Text;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;

namespace OpenDcc.Core.Tests.Translation;

/// <summary>OpenDcc reads back the payload an adapter gave a user, for services it answers itself (smart-grid reads).</summary>
public sealed class AnswerPayloadReadBackTests
{
    private static readonly Eui64 Acb = Eui64.Parse("90-B3-D5-1F-30-00-00-02");
    private static readonly Eui64 Meter = Eui64.Parse("00-DB-12-34-56-78-90-E5");
    private static readonly Eui64 OtherMeter = Eui64.Parse("00-DB-12-34-56-78-90-E6");
    private static readonly DeviceOutcome.NetworkData Reading = new(2371, 412, Instant.FromUtc(2026, 11, 28, 17, 42));

    [Fact]
    public void An_early_smart_answer_reads_back_as_what_the_meter_said_any_number_of_times()
    {
        using var adapter = new EarlySmartReferenceAdapter(Acb, RandomNumberGenerator.GetBytes(32));
        var answer = Answer(adapter);

        Assert.Equal(Reading, adapter.ReadAnswerPayload(answer.DuisPayload.Span, Meter));
        Assert.Equal(Reading, adapter.ReadAnswerPayload(answer.DuisPayload.Span, Meter));
    }

    [Fact]
    public void A_payload_changed_in_one_byte_or_read_as_another_meters_does_not_read_back()
    {
        using var adapter = new EarlySmartReferenceAdapter(Acb, RandomNumberGenerator.GetBytes(32));
        var answer = Answer(adapter);
        var changed = answer.DuisPayload.ToArray();
        changed[^20] ^= 0x01;

        Assert.Null(adapter.ReadAnswerPayload(changed, Meter));
        Assert.Null(adapter.ReadAnswerPayload(answer.DuisPayload.Span, OtherMeter));
    }

    [Fact]
    public void An_adapter_that_offers_no_read_back_reads_nothing()
    {
        ITranslationAdapter adapter = new NoReadBack();

        Assert.Null(adapter.ReadAnswerPayload([1, 2, 3], Meter));
    }

    /// <summary>The meter's answer to the command in flight to it (its sequence is the command's counter).</summary>
    private static DeviceMessage.Answer Answer(EarlySmartReferenceAdapter adapter)
    {
        adapter.ToDevice(new DeviceOperation.ReadNetworkData(), Meter, 7);
        return Assert.IsType<DeviceMessage.Answer>(adapter.FromDevice(Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeResponse(new EarlySmartHeader(7, Meter), Reading)), Meter));
    }

    private sealed class NoReadBack : ITranslationAdapter
    {
        public string Name => "no-read-back";

        public bool Carries(DeviceOperation operation, OpenDcc.Core.Inventory.DeviceType type) => true;

        public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter) => [];

        public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device) => new DeviceMessage.Unreadable("none");
    }
}
