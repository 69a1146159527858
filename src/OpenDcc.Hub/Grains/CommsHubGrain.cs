using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenDcc.Core;
using OpenDcc.Core.Alerts;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Wan;
using Orleans.Concurrency;

namespace OpenDcc.Hub.Grains;

/// <summary>
/// One per communications hub (keyed by its EUI-64's 64 bits, <see cref="KeyOf"/>; a device with no hub recorded has a
/// grain of its own): the command queues of the devices joined to it, over the SM WAN.
/// </summary>
public interface ICommsHubGrain : IGrainWithIntegerKey
{
    /// <summary>The grain key of a hub: its EUI-64 as a number (no text to format per command).</summary>
    static long KeyOf(Eui64 hub) => unchecked((long)hub.Value);

    /// <summary>Queues a command for one of the hub's devices; returns at once. The device's answer, or E20/E21, reaches the user through delivery.</summary>
    Task EnqueueAsync(QueuedCommand command);

    /// <summary>
    /// A command for local delivery (DUIS command variants 2 and 6): made as <see cref="EnqueueAsync"/>'s would be, its
    /// counter from the same rising sequence as the hub's commands to the device over the SM WAN, and handed back
    /// rather than sent; or why there is none.
    /// </summary>
    Task<LocalDelivery> ForLocalDeliveryAsync(QueuedCommand command);
}

/// <summary>A command for local delivery in its device's format, or the response code and reason it could not be made.</summary>
[GenerateSerializer, Immutable]
public sealed record LocalDelivery([property: Id(0)] byte[]? Command, [property: Id(1)] string? Code, [property: Id(2)] string? Reason);

/// <summary>A translated-to-be device request, in the values a grain call carries (Core's identifiers through the surrogates in IdentifierSurrogates.cs).</summary>
/// <param name="Region">The device's own SM WAN region; null when the inventory has none for it: its comms hub's is used.</param>
[GenerateSerializer, Immutable]
public sealed record QueuedCommand(
    [property: Id(0)] RequestId RequestId,
    [property: Id(1)] string ServiceReferenceVariant,
    [property: Id(2)] string SchemaVersion,
    [property: Id(3)] string Body,
    [property: Id(4)] Eui64 User,
    [property: Id(5)] DeviceAnswerRoute Route,
    [property: Id(6)] CommandPriority Priority,
    [property: Id(7)] string? Model,
    [property: Id(8)] DeviceType DeviceType,
    [property: Id(9)] Eui64 Device,
    [property: Id(10)] WanRegion? Region)
{
    /// <summary>For a critical command (CV 5): the user's signed pre-command, checked at submission; the ACB protects it as it goes.</summary>
    [Id(11)]
    public byte[]? SignedPreCommand { get; init; }

    /// <summary>
    /// The operation read from <see cref="Body"/> at submission. Not serialized: a call to a grain in this process hands
    /// the record over as it is (it is immutable), so the grain need not parse the body again; a grain on another silo
    /// gets null here and reads the operation from the body.
    /// </summary>
    [field: NonSerialized]
    public DeviceOperation? Operation { get; init; }
}

/// <summary>
/// Holds, for each device joined to the hub, its queued commands in priority lanes (critical, prepayment, normal,
/// bulk; first come first served within a lane) and keeps one in flight per device: translates it with the device
/// model's adapter, protects it with a counter that only rises, sends it through the WAN (throttled per region and
/// per the hub's radio cell), retries with backoff, and hands the answer, or E20 (unreachable) / E21 (no answer), to the response sender.
/// Nothing is written per command: the queues live in memory and the grain is collected when idle, when it tells
/// each adapter it used to let go of what it keeps for the device (<see cref="ITranslationAdapter.Release"/>); a grain
/// that goes with commands unanswered answers them first (<see cref="OnDeactivateAsync"/>).
/// </summary>
[Reentrant]
internal sealed class CommsHubGrain(
    TranslationAdapters adapters,
    IWanTransport wan,
    WanThrottle throttle,
    WanOptions options,
    IInventoryStore inventory,
    IDeviceResponseSink responses,
    IFirmwareDistributionSink firmwareDistribution,
    DeviceConfirmations confirmations,
    ICriticalCounterStore criticalCounters,
    AcbCounters acbCounters,
    IClock clock,
    GatewayResponseCodes codes,
    ILogger<CommsHubGrain> logger) : Grain, ICommsHubGrain
{
    private readonly Dictionary<Eui64, DeviceLane> lanes = [];

    // The adapter each device was sent commands through during this activation, released when the grain goes.
    private readonly Dictionary<Eui64, ITranslationAdapter> served = [];
    private long sequence;

    // The hub's radio cell, by which its devices' commands are throttled within their region's limit; null when not recorded.
    private string? radioCell;

    // The hub's SM WAN region: its devices' commands go through it, so a device without a region of its own is in it.
    private WanRegion? hubRegion;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Read once per activation, not per command.
        var hub = await inventory.FindDeviceAsync(new Eui64(unchecked((ulong)this.GetPrimaryKeyLong())), cancellationToken);
        (radioCell, hubRegion) = (hub?.RadioCell, hub?.Region);
    }

    public Task EnqueueAsync(QueuedCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var device = command.Device;
        if (!lanes.TryGetValue(device, out var lane))
        {
            lanes[device] = lane = new DeviceLane(device);
        }
        lane.Queue.Enqueue(command, (command.Priority, sequence++));
        if (!lane.Sending)
        {
            lane.Sending = true;
            // Runs on the grain's scheduler; the grain stays active while it works.
            _ = SendQueuedAsync(lane);
        }
        return Task.CompletedTask;
    }

    public async Task<LocalDelivery> ForLocalDeliveryAsync(QueuedCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var adapter = AdapterFor(command);
        var (_, bytes, refusal) = await ThenClaimAsync(await TranslateAsync(command, adapter, forLocalDelivery: true), command, adapter);
        return new LocalDelivery(bytes, refusal?.Code, refusal?.Reason);
    }

    /// <summary>
    /// A grain is kept active while it has commands (<see cref="SendQueuedAsync"/>), so it goes with commands unanswered
    /// when the hub stops, or when Orleans must let it go. Each acknowledged request still gets its asynchronous
    /// response: E21 for the command on the WAN (sent, its answer no longer awaited: its lane answers nothing after
    /// this), E20 for those not sent. They go to delivery, which is durable, so a user the hub cannot reach as it stops
    /// hears after the restart. Each is handed on by itself: one that fails (<see cref="NotReported"/>) does not keep the
    /// others' from going, nor the adapters from being released.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Every lane is abandoned before the first await, at which a command's own task could carry on.
        var unanswered = new List<(QueuedCommand Command, string Code, string Reason)>();
        foreach (var lane in lanes.Values)
        {
            lane.Abandoned = true;
            if (lane.InFlight is { } sent)
            {
                unanswered.Add((sent, ResponseCode.NoResponseFromDevice.Code, $"its comms hub's queue closed before the device's answer ({reason.ReasonCode}: {reason.Description})"));
            }
            while (lane.Queue.TryDequeue(out var waiting, out _))
            {
                unanswered.Add((waiting, ResponseCode.UnableToCommunicate.Code, $"not sent: its comms hub's queue closed ({reason.ReasonCode}: {reason.Description})"));
            }
        }
        lanes.Clear();
        try
        {
            // Once the store has stayed away past Orleans' deactivation timeout, the rest are not tried (each try could
            // wait out a connection timeout): they stay recorded for the next start, as a failed one does.
            var storeGone = false;
            foreach (var (command, code, why) in unanswered)
            {
                logger.LogWarning("{RequestId} to {Device}: {Reason}", command.RequestId, command.Device, why);
                if (storeGone)
                {
                    NotReported(command, code, failure: null);
                    continue;
                }
                try
                {
                    // Tried again while the store is away, as a command's outcome is (UntilStoredAsync), but only until
                    // Orleans' deactivation timeout: a grain that goes does not wait for the store for ever.
                    await StoreAway.UntilStoredAsync(logger, $"{command.RequestId} to {command.Device}: its {code} as its comms hub's queue closed",
                        () => UndeliveredCommands.ReportAsync(responses, firmwareDistribution, ReferenceOf(command), command.User, command.Route, code, why), cancellationToken);
                }
#pragma warning disable CA1031 // One command's report failing must not keep the others' users from theirs; it is logged, and its command stays recorded.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    NotReported(command, code, e);
                    storeGone = StoreAway.Is(e) && cancellationToken.IsCancellationRequested;
                }
            }
        }
        finally
        {
            foreach (var (device, adapter) in served)
            {
                adapter.Release(device);
            }
            served.Clear();
        }
    }

    /// <summary>
    /// A command whose E20/E21 could not be handed on as the grain went: a user's command stays recorded unanswered
    /// (<see cref="UnansweredCommand"/>, cleared only in the transaction that hands its outcome on), and the hub's next
    /// start answers it E21, or for 11.1 with the DCC alert (<see cref="UnansweredCommandRecovery"/>). One of OpenDcc's
    /// own reads is not recorded.
    /// </summary>
    private void NotReported(QueuedCommand command, string code, Exception? failure)
    {
        if (command.Route == DeviceAnswerRoute.OpenDccRead)
        {
            logger.LogError(failure, "{RequestId} to {Device}: its {Code} was not returned to OpenDcc's own read as its comms hub's queue closed", command.RequestId, command.Device, code);
            return;
        }
        logger.LogError(failure, "{RequestId} to {Device}: its {Code} was not reported to {User} as its comms hub's queue closed{Why}; it stays recorded unanswered, and the hub's next start answers it (E21, or for 11.1 the DCC alert)",
            command.RequestId, command.Device, code, command.User, failure is null ? " (the store stayed away past the deactivation timeout, so it was not tried)" : "");
    }

    private static DeviceRequestReference ReferenceOf(QueuedCommand command)
    {
        var variant = ServiceCatalogue.Duis[command.ServiceReferenceVariant];
        return new DeviceRequestReference(command.RequestId, variant.ServiceReference, variant.Id, command.SchemaVersion, command.Device);
    }

    private async Task SendQueuedAsync(DeviceLane lane)
    {
        try
        {
            while (!lane.Abandoned && lane.Queue.TryDequeue(out var command, out _))
            {
                DelayDeactivation(TimeSpan.FromMinutes(5));
                lane.InFlight = command;
                try
                {
                    await SendAsync(lane, command);
                }
#pragma warning disable CA1031 // One command's failure must not stop the device's queue; it is logged, and its user told.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    logger.LogError(e, "{RequestId} to {Device} failed", command.RequestId, lane.Device);
                    await AnswerFailedAsync(lane, command, e);
                }
                lane.InFlight = null;
            }
        }
        finally
        {
            lane.Sending = false;
            // An idle device's lane goes: the grain keeps nothing for devices with nothing queued. An abandoned lane
            // has gone already, and a new lane may have taken its place.
            if (lane.Queue.Count == 0 && !lane.Abandoned)
            {
                lanes.Remove(lane.Device);
            }
        }
    }

    /// <summary>
    /// A command whose sending failed in the hub itself (the WAN transport or the store threw, not a device that could
    /// not be reached or did not answer) was not answered, since answering is its sending's last step: its user gets
    /// E21 now. If that fails too, it stays recorded unanswered (<see cref="UnansweredCommand"/>) for the hub's next start.
    /// </summary>
    private async Task AnswerFailedAsync(DeviceLane lane, QueuedCommand command, Exception failure)
    {
        if (lane.Abandoned)
        {
            // Answered when the grain went (OnDeactivateAsync).
            return;
        }
        try
        {
            await UndeliveredCommands.ReportAsync(responses, firmwareDistribution, ReferenceOf(command), command.User, command.Route, ResponseCode.NoResponseFromDevice.Code, $"failed in the hub: {failure.Message}");
        }
#pragma warning disable CA1031 // Logged; the command stays recorded unanswered, and the next start answers it.
        catch (Exception again)
#pragma warning restore CA1031
        {
            logger.LogError(again, "{RequestId} to {Device}: its failure could not be answered either; the hub's next start answers it", command.RequestId, lane.Device);
        }
    }

    private async Task SendAsync(DeviceLane lane, QueuedCommand command)
    {
        var device = lane.Device;
        var variant = ServiceCatalogue.Duis[command.ServiceReferenceVariant];
        var reference = ReferenceOf(command);
        var user = command.User;
        var route = command.Route;
        var adapter = AdapterFor(command);
        // What the device is asked to do, for the inventory when it confirms (DeviceConfirmations), and the command.
        var (operation, bytes, refusal) = await ThenClaimAsync(await TranslateAsync(command, adapter, forLocalDelivery: false), command, adapter);
        if (refusal is not null)
        {
            await UntilStoredAsync(lane, command, () => UndeliveredCommands.ReportAsync(responses, firmwareDistribution, reference, user, route, refusal.Code, refusal.Reason));
            return;
        }
        string? lastFailure = null;
        var unreachable = false;
        for (var attempt = 0; attempt <= options.Retries; attempt++)
        {
            if (lane.Abandoned)
            {
                // Answered when the grain went (OnDeactivateAsync).
                return;
            }
            if (attempt > 0)
            {
                await Task.Delay((options.RetryBackoff * attempt).ToTimeSpan());
            }
            byte[] answer;
            try
            {
                using var timeout = new CancellationTokenSource(options.AttemptTimeout.ToTimeSpan());
                // A region unknown to the device and its hub is counted as Central's (the throttle needs one).
                using (await throttle.EnterAsync(command.Region ?? hubRegion ?? WanRegion.Central, radioCell, timeout.Token))
                {
                    answer = await wan.ExchangeAsync(device, bytes!, timeout.Token);
                }
            }
            catch (DeviceUnreachableException e)
            {
                (unreachable, lastFailure) = (true, e.Message);
                continue;
            }
            catch (OperationCanceledException)
            {
                (unreachable, lastFailure) = (false, $"no answer within {options.AttemptTimeout}");
                continue;
            }
            catch (DeviceSilentException e)
            {
                // The device dropped it (its MAC, a counter it has seen): no answer, tried again as a lost one is. Worth
                // an operator's look: a MAC that does not verify is a key or a forgery.
                logger.LogWarning("{RequestId} to {Device}: {Failure}", command.RequestId, device, e.Message);
                (unreachable, lastFailure) = (false, e.Message);
                continue;
            }
            switch (adapter.FromDevice(answer, device))
            {
                case DeviceMessage.Answer reply:
                    if (operation is not null)
                    {
                        // What the device did, recorded even when its user has been answered already (below).
                        await UntilStoredAsync(lane, command, () => confirmations.ApplyAsync(device, operation, reply.Outcome, new InventoryChange(clock.GetCurrentInstant(), variant.Id, user)));
                    }
                    if (lane.Abandoned)
                    {
                        logger.LogWarning("{RequestId}: {Device} answered after its queue closed; its user was told E21", command.RequestId, device);
                        return;
                    }
                    await UntilStoredAsync(lane, command, () => responses.SendAsync(reference, ResponseCode.Success.Code, new ResponsePayload.GbcsPayload(reply.DuisPayload), user, route));
                    return;
                case DeviceMessage.Unreadable unreadable:
                    (unreachable, lastFailure) = (false, $"unreadable answer: {unreadable.Reason}");
                    continue;
                default:
                    (unreachable, lastFailure) = (false, "the device sent an alert instead of an answer");
                    continue;
            }
        }
        if (lane.Abandoned)
        {
            return;
        }
        logger.LogInformation("{RequestId} to {Device} failed after {Attempts} attempts: {Failure}", command.RequestId, device, options.Retries + 1, lastFailure);
        await UntilStoredAsync(lane, command, () => UndeliveredCommands.ReportAsync(responses, firmwareDistribution, reference, user, route,
            (unreachable ? ResponseCode.UnableToCommunicate : ResponseCode.NoResponseFromDevice).Code, $"{(unreachable ? "unreachable" : "no answer")}: {lastFailure}"));
    }

    /// <summary>
    /// Hands a command's outcome to the store (the answer into the message log and the delivery queue, what the device
    /// did into the inventory), trying again while the store is away (<see cref="StoreAway.RetryAsync"/>): the device's
    /// queue waits, and its answer is kept, rather than lost until the hub's next start answers the command E21 although
    /// the device did answer. Gives up when the grain goes (its lane abandoned: <see cref="OnDeactivateAsync"/> answers the command).
    /// </summary>
    private Task UntilStoredAsync(DeviceLane lane, QueuedCommand command, Func<Task> handOff) =>
        StoreAway.UntilStoredAsync(logger, $"{command.RequestId} to {lane.Device}: its outcome", handOff, stillWanted: () =>
        {
            if (lane.Abandoned)
            {
                return false;
            }
            DelayDeactivation(TimeSpan.FromMinutes(5));
            return true;
        });

    /// <summary>The adapter of the command's device model, which the grain releases the device from when it goes.</summary>
    private ITranslationAdapter AdapterFor(QueuedCommand command)
    {
        var adapter = adapters.For(new Device(command.Device, command.DeviceType, SmiStatus.Commissioned) { Model = command.Model });
        served[command.Device] = adapter;
        return adapter;
    }

    /// <summary>
    /// What the command asks of the device and the command in the device's format, protected as the device expects; or
    /// why there is none, for its user to hear at once rather than never hearing of the request again: its body does
    /// not read (checked at submission, so not expected), or the adapter (a manufacturer's code) could not make it: E41
    /// when it refused what the request holds, E20 for any other failure (a device the SM WAN has no key for among
    /// them, logged as a warning rather than the adapter's fault); for local delivery, E17 when the adapter's devices take
    /// no commands delivered locally.
    /// </summary>
    private async Task<(DeviceOperation? Operation, byte[]? Bytes, DeviceRefusal? Refusal)> TranslateAsync(QueuedCommand command, ITranslationAdapter adapter, bool forLocalDelivery)
    {
        // A counter no device has seen (AcbCounters); a critical command carries its user's own.
        var acbCounter = command.SignedPreCommand is null ? await acbCounters.NextAsync() : 0;
        var device = command.Device;
        var operation = command.Operation;
        if (operation is null && !DuisOperations.TryReadCommand(command.ServiceReferenceVariant, command.Body, command.SignedPreCommand, adapter, codes, out operation, out var unread))
        {
            // Checked at submission; a body that reads there reads here.
            logger.LogWarning("{RequestId}: {Failure}", command.RequestId, unread!.Reason);
            return (null, null, unread);
        }
        try
        {
            // A critical command's adapter was checked at submission to take signed pre-commands.
            var critical = adapter as ICriticalCommandTranslation;
            var bytes = (command.SignedPreCommand, forLocalDelivery) switch
            {
                ({ } signedCommand, false) => critical!.ToDevice(signedCommand, device),
                ({ } signedCommand, true) => critical!.ToLocalDelivery(signedCommand, device),
                (null, false) => adapter.ToDevice(operation!, device, acbCounter),
                (null, true) => adapter.ToLocalDelivery(operation!, device, acbCounter),
            };
            return bytes is not null ? (operation, bytes, null)
                : (operation, null, new DeviceRefusal(ResponseCode.LocalCommandNotAvailable.Code, $"adapter {adapter.Name} makes no commands for local delivery to {device}"));
        }
        catch (DeviceUnreachableException e)
        {
            // Not the adapter's fault: the device is not there to be addressed.
            logger.LogWarning("{RequestId}: {Failure}", command.RequestId, e.Message);
            return (operation, null, new DeviceRefusal(ResponseCode.UnableToCommunicate.Code, $"unreachable: {e.Message}"));
        }
#pragma warning disable CA1031 // Whatever a manufacturer's adapter throws, the user is told and the device's queue goes on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            logger.LogError(e, "{RequestId}: adapter {Adapter} could not put it into {Device}'s format", command.RequestId, adapter.Name, device);
            return (operation, null, new DeviceRefusal(AdapterFault.CodeFor(e, codes), $"not translated: {e.Message}"));
        }
    }

    /// <summary>
    /// A critical command, once made, goes on only with an originator counter above that of its user's last critical
    /// command to the device (<see cref="ICriticalCounterStore"/>), as the device itself checks; one not made claims
    /// nothing. The translation as it was, or the refusal.
    /// </summary>
    private async Task<(DeviceOperation? Operation, byte[]? Bytes, DeviceRefusal? Refusal)> ThenClaimAsync(
        (DeviceOperation? Operation, byte[]? Bytes, DeviceRefusal? Refusal) translated, QueuedCommand command, ITranslationAdapter adapter)
    {
        // Checked at submission: a signed pre-command its adapter reads.
        if (translated.Refusal is not null || command.SignedPreCommand is not { } signed || (adapter as ICriticalCommandTranslation)?.ReadSignedPreCommand(signed, out _) is not { } read)
        {
            return translated;
        }
        return await criticalCounters.TryClaimAsync(command.User, command.Device, read.Counter, command.RequestId)
            ? translated
            : (null, null, new DeviceRefusal(codes.SignedPreCommandInvalid, $"its originator counter {read.Counter} is not above that of {command.User}'s last critical command to {command.Device}, which the device would drop"));
    }

    /// <summary>One device's queue, whether a command is in flight, and the last counter used.</summary>
    private sealed class DeviceLane(Eui64 device)
    {
        public Eui64 Device { get; } = device;

        public PriorityQueue<QueuedCommand, (CommandPriority Priority, long Sequence)> Queue { get; } = new();

        public bool Sending { get; set; }

        /// <summary>The command sent and not yet answered, if any.</summary>
        public QueuedCommand? InFlight { get; set; }

        /// <summary>Its grain went (<see cref="OnDeactivateAsync"/>) and answered its commands: this lane answers nothing more.</summary>
        public bool Abandoned { get; set; }
    }
}
