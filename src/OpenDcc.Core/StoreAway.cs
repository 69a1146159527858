using System.Data.Common;

namespace OpenDcc.Core;

/// <summary>
/// Whether a fault is a store's being away for now (PostgreSQL restarting, out of reach or not answering; a busy
/// database): a transient <see cref="DbException"/> or a timeout, itself or as the cause of another fault. What failed
/// on it can be tried again once the store is back; it is not a fault of the request.
/// </summary>
public static class StoreAway
{
    /// <summary>The longest wait between two tries of <see cref="RetryAsync"/>.</summary>
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(10);

    public static bool Is(Exception? fault) =>
        fault is DbException { IsTransient: true } or TimeoutException || (fault?.InnerException is { } cause && Is(cause));

    /// <summary>
    /// Runs <paramref name="work"/> against the store, trying again at 1, 2, 4 … 10 s while it fails with the store away
    /// and <paramref name="keepTrying"/> (told the fault and the wait, and free to log them) says to; any other fault,
    /// one <paramref name="keepTrying"/> declines, or <paramref name="stopping"/> during a wait ends it with the fault.
    /// </summary>
    public static async Task RetryAsync(Func<Task> work, Func<Exception, TimeSpan, bool> keepTrying, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(keepTrying);
        for (var wait = TimeSpan.FromSeconds(1); ; wait = wait * 2 < Ceiling ? wait * 2 : Ceiling)
        {
            try
            {
                await work();
                return;
            }
            catch (Exception e) when (Is(e))
            {
                if (!keepTrying(e, wait))
                {
                    throw;
                }
                try
                {
                    await Task.Delay(wait, stopping);
                }
                catch (OperationCanceledException)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
                }
            }
        }
    }
}
