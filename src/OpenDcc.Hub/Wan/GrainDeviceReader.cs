using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Grains;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// OpenDcc's own reads of devices: the read is queued in the device's comms hub grain as the DUIS SRV that asks
/// for it (so it waits its turn behind the device's command in flight, is throttled, timed out and retried like any
/// other), routed back to <see cref="DeviceReadReturns"/> (<see cref="DeviceAnswerRoute.OpenDccRead"/>), and its answer, back from the grain, is
/// read with the device's adapter.
/// </summary>
internal sealed class GrainDeviceReader(TranslationAdapters adapters, IGrainFactory grains, DeviceReadReturns returns, IClock clock) : IDeviceReader
{
    /// <summary>The bodiless read SRVs an operation travels as.</summary>
    private static readonly Dictionary<Type, ServiceReferenceVariant> Variants = new()
    {
        [typeof(DeviceOperation.ReadNetworkData)] = ServiceCatalogue.Duis["4.10"],
        [typeof(DeviceOperation.ReadImportRegisters)] = ServiceCatalogue.Duis["4.1.1"],
        [typeof(DeviceOperation.ReadFirmwareVersion)] = ServiceCatalogue.Duis["11.2"],
        [typeof(DeviceOperation.ReadSupplyStatus)] = ServiceCatalogue.Duis["7.4"],
    };

    // Request IDs unique in this process: from the clock in microseconds at start, rising by one per read.
    private long counter = clock.GetCurrentInstant().ToUnixTimeTicks() / 10;

    public async Task<DeviceReading> ReadAsync(Device device, Eui64 user, DeviceOperation operation, CommandPriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(operation);
        if (!Variants.TryGetValue(operation.GetType(), out var variant))
        {
            throw new ArgumentException($"{operation.GetType().Name} is not a read OpenDcc makes itself", nameof(operation));
        }
        var adapter = adapters.For(device);
        if (!adapter.Carries(operation, device.Type))
        {
            return new DeviceReading.Failed(DuisOperations.NotTranslated, $"adapter {adapter.Name} does not carry {variant.Id} to a {device.Type}");
        }
        var id = new RequestId(user, device.Id, (ulong)Interlocked.Increment(ref counter));
        var answer = returns.Expect(id);
        try
        {
            await grains.GetGrain<ICommsHubGrain>(ICommsHubGrain.KeyOf(device.CommsHub ?? device.Id)).EnqueueAsync(new QueuedCommand(
                id,
                variant.Id,
                DuisResponse.DefaultSchemaVersion,
                new XElement(DuisNamespaces.Sr + variant.BodyElement).ToString(SaveOptions.DisableFormatting),
                user,
                DeviceAnswerRoute.OpenDccRead,
                priority,
                device.Model,
                device.Type,
                device.Id,
                device.Region)).WaitAsync(cancellationToken);
            var returned = await answer.WaitAsync(cancellationToken);
            if (returned.ResponseCode != ResponseCode.Success.Code)
            {
                return new DeviceReading.Failed(returned.ResponseCode, ResponseCode.Known.FirstOrDefault(k => k.Code == returned.ResponseCode)?.Meaning ?? returned.ResponseCode);
            }
            if (returned.Payload is not ResponsePayload.GbcsPayload payload)
            {
                return new DeviceReading.Failed(returned.ResponseCode, $"adapter {adapter.Name} gave no device answer to read back");
            }
            try
            {
                return adapter.ReadAnswerPayload(payload.Bytes.Span, device.Id) is { } outcome
                    ? new DeviceReading.Answered(outcome)
                    : new DeviceReading.Failed(returned.ResponseCode, $"adapter {adapter.Name} could not read back the device's answer");
            }
#pragma warning disable CA1031 // An adapter that throws on its own answer (the SPI says reading never does) has not read it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                return new DeviceReading.Failed(returned.ResponseCode, $"adapter {adapter.Name} could not read back the device's answer: {e.Message}");
            }
        }
        finally
        {
            // Answered, or given up on: a late answer is dropped.
            returns.Forget(id);
        }
    }
}
