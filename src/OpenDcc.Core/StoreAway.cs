using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace OpenDcc.Core;

/// <summary>
/// Whether a fault is a store's being away for now (PostgreSQL restarting, out of reach or not answering; a busy
/// database; a disk full): a transient <see cref="DbException"/>, one its engine recognises as the store unable to
/// write for now (<see cref="Recognise"/>), or a timeout, itself or as the cause of another fault. What failed on it
/// can be tried again once the store is back; it is not a fault of the request.
/// </summary>
public static class StoreAway
{
    /// <summary>The longest wait between two tries of <see cref="RetryAsync"/>.</summary>
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(10);

    private static Func<DbException, bool>[] recognised = [];

    public static bool Is(Exception? fault) =>
        fault is DbException { IsTransient: true } or TimeoutException
        || (fault is DbException db && Array.Exists(Volatile.Read(ref recognised), away => away(db)))
        || (fault?.InnerException is { } cause && Is(cause));

    /// <summary>
    /// Adds the faults of a store engine that are its store being away although the engine does not call them transient:
    /// SQLite's full disk, for one, which a DUIS user should meet as 503 and Retry-After, as PostgreSQL's is.
    /// </summary>
    public static void Recognise(Func<DbException, bool> away)
    {
        ArgumentNullException.ThrowIfNull(away);
        Func<DbException, bool>[] before, after;
        do
        {
            before = Volatile.Read(ref recognised);
            after = [.. before, away];
        }
        while (Interlocked.CompareExchange(ref recognised, after, before) != before);
    }

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

    /// <summary>
    /// <see cref="RetryAsync"/> for what must not be lost and has no one to answer 503 to (a device's answer, an alert):
    /// tried until the store takes it, <paramref name="stillWanted"/> says no more, or <paramref name="stopping"/>. Two
    /// warnings name <paramref name="what"/>: when the store first refuses it, and when it takes it, with how long it
    /// waited; not one a try (a full disk may hold many such for as long as it is full).
    /// </summary>
    public static async Task UntilStoredAsync(ILogger logger, string what, Func<Task> work, CancellationToken stopping = default, Func<bool>? stillWanted = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var waited = TimeSpan.Zero;
        await RetryAsync(work, (fault, wait) =>
        {
            if (stillWanted?.Invoke() == false)
            {
                return false;
            }
            if (waited == TimeSpan.Zero)
            {
                logger.LogWarning("{What}: the store is away ({Reason}); kept and handed on again every few seconds until the store takes it", what, fault.Message);
            }
            waited += wait;
            return true;
        }, stopping);
        if (waited > TimeSpan.Zero)
        {
            logger.LogWarning("{What}: kept {Waited} s while the store was away, is handed on", what, (long)waited.TotalSeconds);
        }
    }

    /// <summary><see cref="UntilStoredAsync(ILogger, string, Func{Task}, CancellationToken, Func{bool}?)"/> for work with a result.</summary>
    public static async Task<T> UntilStoredAsync<T>(ILogger logger, string what, Func<Task<T>> work, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        T result = default!;
        await UntilStoredAsync(logger, what, async () => { result = await work(); }, stopping);
        return result;
    }
}
