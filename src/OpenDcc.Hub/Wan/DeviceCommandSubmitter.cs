using Microsoft.Extensions.Logging;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Grains;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// The gateway's way to devices: checks that the device's adapter carries the request (for a Signed Pre-Command, that
/// it passes <see cref="CriticalCommands"/>), then, once the gateway has logged it, queues it in its comms hub's grain;
/// Transform builds pre-commands.
/// </summary>
internal sealed class DeviceCommandSubmitter(
    TranslationAdapters adapters,
    CriticalCommands critical,
    IGrainFactory grains,
    IInventoryStore inventory,
    GatewayResponseCodes codes,
    IDeviceResponseSink responses,
    IFirmwareDistributionSink firmwareDistribution,
    ILogger<DeviceCommandSubmitter> logger) : IDeviceRequestHandler
{
    public async Task<IReadOnlyList<DevicePreparation>> PrepareAsync(DuisRequest request, DccUser user, IReadOnlyList<Device> devices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(devices);
        if (FutureDated(request) is { } refusal)
        {
            return [DevicePreparation.Refused(refusal)];
        }
        // A signed pre-command is one device's (CV 5): checked for it. Any other body is read once for all its devices.
        DeviceOperation? read = null;
        if (request.Body.Name.LocalName != DuisRequestReader.SignedPreCommandElement && !DuisOperations.TryRead(request.Variant.Id, request.Body, codes, out read, out var unread))
        {
            return [DevicePreparation.Refused(unread!)];
        }
        var body = request.BodyText();
        var preparations = new List<DevicePreparation>(devices.Count);
        foreach (var device in devices)
        {
            var prepared = await PrepareAsync(request, user, device, read, body, cancellationToken);
            preparations.Add(prepared);
            if (prepared.Refusal is not null)
            {
                break;
            }
        }
        return preparations;
    }

    /// <param name="read">What the request's body asks; null for a signed pre-command, checked here for the device.</param>
    private async Task<DevicePreparation> PrepareAsync(DuisRequest request, DccUser user, Device device, DeviceOperation? read, string body, CancellationToken cancellationToken)
    {
        DeviceOperation operation;
        byte[]? signedPreCommand = null;
        if (read is null)
        {
            var check = await critical.CheckAsync(request, user, device, cancellationToken);
            if (check.Refusal is not null)
            {
                return DevicePreparation.Refused(check.Refusal);
            }
            (signedPreCommand, operation) = (check.Bytes, check.Operation!);
        }
        else
        {
            operation = read;
            var adapter = adapters.For(device);
            if (!adapter.Carries(operation, device.Type))
            {
                return DevicePreparation.Refused(new DeviceRefusal(DuisOperations.NotTranslated, $"adapter {adapter.Name} does not carry SRV {request.Variant.Id} to a {device.Type}"));
            }
        }
        // Join and unjoin, and the comms hub's device log (8.11), name a second device: it must be in the inventory too,
        // so the device's confirmation can be recorded.
        var other = operation switch
        {
            DeviceOperation.JoinDevice join => join.Other,
            DeviceOperation.UnjoinDevice unjoin => unjoin.Other,
            DeviceOperation.AddToDeviceLog add => add.Device,
            DeviceOperation.RemoveFromDeviceLog remove => remove.Device,
            _ => (Core.Identifiers.Eui64?)null,
        };
        if (other is not null)
        {
            if (await inventory.FindDeviceAsync(other.Value, cancellationToken) is not { } named)
            {
                return DevicePreparation.Refused(new DeviceRefusal(ResponseCode.DeviceDoesNotExist.Code, $"the other device {other} is not in the smart metering inventory"));
            }
            // A device out of service may be taken off a hub's device log, not put on one (OpenDcc's rule, documented).
            if (operation is DeviceOperation.AddToDeviceLog && named.Status is SmiStatus.Decommissioned or SmiStatus.Withdrawn)
            {
                return DevicePreparation.Refused(new DeviceRefusal(ResponseCode.DeviceStatusIncompatible.Code, $"device {named.Id} is {named.Status}; 8.11 adds only devices not taken out of service"));
            }
        }
        return DevicePreparation.Ready(new PreparedDeviceCommand(request, user, device, operation, signedPreCommand, body));
    }

    public async Task QueueAsync(PreparedDeviceCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var (request, user, device) = (command.Request, command.User, command.Device);
        try
        {
            await HubOf(device).EnqueueAsync(Queued(command));
        }
#pragma warning disable CA1031 // The request is accepted and answered: whatever stops its queueing, the user must hear of it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "{RequestId} could not be queued for {Device}", request.RequestId, device.Id);
            try
            {
                await UndeliveredCommands.ReportAsync(responses, firmwareDistribution, command.Reference, user.Id, DeviceAnswerRoute.User, ResponseCode.UnableToCommunicate.Code, $"not queued: {e.Message}");
            }
#pragma warning disable CA1031 // The request is answered (I99) already: its caller, and the 11.1's other devices, must not fail with it.
            catch (Exception report)
#pragma warning restore CA1031
            {
                // Still unanswered in the store (logged with its I99): the hub's next start answers it.
                logger.LogError(report, "{RequestId} for {Device} was not queued and its E20 not reported; it stays unanswered until the hub starts again", request.RequestId, device.Id);
            }
        }
    }

    public async Task<(byte[]? Command, DeviceRefusal? Refusal)> ForLocalDeliveryAsync(PreparedDeviceCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var made = await HubOf(command.Device).ForLocalDeliveryAsync(Queued(command));
        return made.Command is { } bytes ? (bytes, null) : (null, new DeviceRefusal(made.Code!, made.Reason!));
    }

    /// <summary>The grain of the device's comms hub, where its commands are made and queued; a device with no hub recorded has a grain of its own.</summary>
    private ICommsHubGrain HubOf(Device device) => grains.GetGrain<ICommsHubGrain>(ICommsHubGrain.KeyOf(device.CommsHub ?? device.Id));

    private static QueuedCommand Queued(PreparedDeviceCommand command)
    {
        var (request, user, device) = (command.Request, command.User, command.Device);
        return new QueuedCommand(
            request.RequestId,
            request.Variant.Id,
            request.SchemaVersion,
            command.Body,
            user.Id,
            DeviceAnswerRoute.User,
            CommandPriorities.Of(request.Variant, command.Operation),
            device.Model,
            device.Type,
            device.Id,
            device.Region) { SignedPreCommand = command.SignedPreCommand, Operation = command.Operation };
    }

    public Task<CriticalCommandResult> TransformAsync(DuisRequest request, DccUser user, Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(FutureDated(request) is { } refusal ? new CriticalCommandResult(null, null, null, refusal) : critical.Transform(request, device));
    }

    /// <summary>
    /// A request with an <c>ExecutionDateTime</c> is refused: <see cref="DuisOperations.FutureDatedNotAvailable"/> when
    /// it is a date-time, the invalid-request code, naming the field, when it is not one.
    /// </summary>
    private DeviceRefusal? FutureDated(DuisRequest request) =>
        request.Body.Descendants(DuisNamespaces.Sr + "ExecutionDateTime").FirstOrDefault() is not { } executeAt ? null
        : DuisDateTime.TryParse(executeAt.Value, out _)
            ? new DeviceRefusal(DuisOperations.FutureDatedNotAvailable, $"future-dated execution ({executeAt.Value}) is not available yet")
            : new DeviceRefusal(codes.InvalidRequest, $"SRV {request.Variant.Id}: ExecutionDateTime '{Excerpt.Of(executeAt.Value)}' is not a date-time in UTC (2026-11-01T00:00:00Z) or with an offset (2026-11-01T00:00:00+01:00)");
}
