using System.Text;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Translation.EarlySmart;

namespace SampleManufacturer;

/// <summary>
/// A sample manufacturer's adapter for its electricity meters only, speaking the early-smart line protocol; it
/// exists to show that an adapter shipped as its own assembly is loaded, chosen by model and used.
/// </summary>
public sealed class SampleMeterAdapter(AdapterServices services) : ITranslationAdapter
{
    public string Name => "sample-manufacturer";

    /// <summary>The ACB the host gave it.</summary>
    public Eui64 Acb => services.Acb;

    public bool Carries(DeviceOperation operation, DeviceType type) => type == DeviceType.ESME && operation is DeviceOperation.ReadImportRegisters;

    public byte[] ToDevice(DeviceOperation operation, Eui64 device, ulong counter) =>
        Encoding.UTF8.GetBytes(EarlySmartCodec.EncodeCommand(new EarlySmartHeader(counter, device), operation));

    public DeviceMessage FromDevice(ReadOnlySpan<byte> message, Eui64 device) =>
        EarlySmartCodec.DecodeResponse(Encoding.UTF8.GetString(message)) is { Succeeded: true } answer
            ? new DeviceMessage.Answer(answer.Value!, message.ToArray())
            : new DeviceMessage.Unreadable("not a sample meter answer");
}
