using Microsoft.Extensions.Logging;
using OpenDcc.Core;

namespace OpenDcc.Hub.Wan;

/// <summary>
/// An alert's step against the store (the message log, the delivery queue, the inventory), tried again while the store
/// is away (<see cref="StoreAway.RetryAsync"/>) until the hub stops: an alert has no one to answer E20 to and no later
/// recovery, and its device's frame counter is spent once read, so the device sending it again would be refused as a
/// replay; kept and handed on once the store is back, rather than lost.
/// </summary>
internal static class AlertsUntilStored
{
    public static async Task RunAsync(ILogger logger, string what, Func<Task> work, CancellationToken cancellationToken)
    {
        var waited = TimeSpan.Zero;
        await StoreAway.RetryAsync(work, (fault, wait) =>
        {
            if (waited == TimeSpan.Zero)
            {
                logger.LogWarning("{What}: the store is away ({Reason}); kept and handed on again every few seconds until the store takes it", what, fault.Message);
            }
            waited += wait;
            return true;
        }, cancellationToken);
        if (waited > TimeSpan.Zero)
        {
            logger.LogWarning("{What}: kept {Waited} s while the store was away, is handed on", what, (long)waited.TotalSeconds);
        }
    }

    public static async Task<T> RunAsync<T>(ILogger logger, string what, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        T result = default!;
        await RunAsync(logger, what, async () => { result = await work(); }, cancellationToken);
        return result;
    }
}
