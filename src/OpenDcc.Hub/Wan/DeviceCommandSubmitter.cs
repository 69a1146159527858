using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Grains;

namespace OpenDcc.Hub.Wan;

/// <summary>The gateway's way to devices: checks that the device's adapter carries the request, then queues it in its comms hub's grain.</summary>
internal sealed class DeviceCommandSubmitter(TranslationAdapters adapters, IGrainFactory grains, IInventoryStore inventory) : IDeviceRequestHandler
{
    public async Task<DeviceRefusal?> SubmitAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(device);
        if (request.Body.Descendants(DuisNamespaces.Sr + "ExecutionDateTime").FirstOrDefault() is { } executeAt)
        {
            return new DeviceRefusal(DuisOperations.FutureDatedNotAvailable, $"future-dated execution ({executeAt.Value}) is not available yet");
        }
        if (!DuisOperations.TryRead(request.Variant.Id, request.Body, out var operation, out var failure))
        {
            return new DeviceRefusal(DuisOperations.NotTranslated, failure!);
        }
        // Join and unjoin name a second device: it must be in the inventory too, so the device's confirmation can be recorded.
        var other = operation switch
        {
            DeviceOperation.JoinDevice join => join.Other,
            DeviceOperation.UnjoinDevice unjoin => unjoin.Other,
            _ => (Core.Identifiers.Eui64?)null,
        };
        if (other is not null && await inventory.FindDeviceAsync(other.Value, cancellationToken) is null)
        {
            return new DeviceRefusal(ResponseCode.DeviceDoesNotExist.Code, $"the other device {other} is not in the smart metering inventory");
        }
        var adapter = adapters.For(device);
        if (!adapter.Carries(operation!, device.Type))
        {
            return new DeviceRefusal(DuisOperations.NotTranslated, $"adapter {adapter.Name} does not carry SRV {request.Variant.Id} to a {device.Type}");
        }
        // The device's commands queue in its comms hub's grain; a device with no hub recorded has a grain of its own.
        await grains.GetGrain<ICommsHubGrain>((device.CommsHub ?? device.Id).ToString()).EnqueueAsync(new QueuedCommand(
            request.RequestId.ToString(),
            request.Variant.Id,
            request.SchemaVersion,
            request.Body.ToString(System.Xml.Linq.SaveOptions.DisableFormatting),
            user.Id.ToString(),
            user.ResponseUrl?.ToString(),
            CommandPriorities.Of(request.Variant, operation!),
            device.Model,
            device.Type,
            device.Id.ToString(),
            device.Region ?? WanRegion.Central)).WaitAsync(cancellationToken);
        return null;
    }
}
