using System.Collections.Concurrent;
using System.Diagnostics;

namespace OpenDcc.Core.Security;

/// <summary>
/// Group commit: items that callers submit concurrently are gathered and written by one flush (one transaction,
/// one fsync), and each caller resumes with its own result once the flush is durable. This is how per-request
/// writes (message log entries) cost a fraction of a commit each under load.
/// </summary>
/// <remarks>
/// <para>
/// Flushes run one at a time on a thread of the writer's own, never on the thread pool: a commit can hold its thread
/// through the disk's fsync (SQLite's ADO.NET provider is synchronous under its async API), and a pool thread held so
/// is a core the requests cannot use. Where a flush does await (PostgreSQL's I/O), the writer's thread waits, and the
/// flush goes on wherever the awaited work resumes it.
/// </para>
/// <para>
/// Under load, flushes are paced (as PostgreSQL's <c>commit_delay</c> paces its WAL flushes): once a flush has carried
/// more than one item, the next starts no sooner than the pacing interval after it, so it gathers what arrives
/// meanwhile. A commit's cost is mostly per commit (its pages, its fsync), and an unpaced writer on a fast disk
/// commits a handful of items at a time. An idle writer is not paced: a lone item is written at once.
/// </para>
/// <para>
/// A batch whose flush fails for a reason of one item's own (<c>isolate</c> says which faults are), not the store's, is
/// written again an item at a time, so that the fault is that item's caller's alone and the others' items are written.
/// </para>
/// </remarks>
/// <typeparam name="TItem">What a caller submits.</typeparam>
/// <typeparam name="TResult">What each item yields once written; the flush returns one per item, in order.</typeparam>
public sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> flush;
    private readonly int maxBatch;
    private readonly TimeSpan pacing;
    private readonly Func<Exception, bool> isolate;
    private readonly BlockingCollection<(TItem Item, TaskCompletionSource<TResult> Done)> queue = new(new ConcurrentQueue<(TItem, TaskCompletionSource<TResult>)>());
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopping;

    /// <param name="name">The writer thread's name, as debuggers and profilers show it.</param>
    /// <param name="pacing">Under load, the least time from one flush's start to the next's (see remarks); zero for none.</param>
    /// <param name="isolate">
    /// Whether a flush's fault may be one item's own (bad data), so that a failed batch is written again an item at a
    /// time; null for never. A fault of the store's (it is away) is every item's, and trying each alone would only wait longer.
    /// </param>
    public GroupCommit(Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> flush, string name, int maxBatch = 1024, TimeSpan pacing = default, Func<Exception, bool>? isolate = null)
    {
        this.flush = flush ?? throw new ArgumentNullException(nameof(flush));
        ArgumentOutOfRangeException.ThrowIfLessThan(pacing, TimeSpan.Zero);
        this.maxBatch = maxBatch;
        this.pacing = pacing;
        this.isolate = isolate ?? (_ => false);
        new Thread(Pump) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>Submits an item; completes with its result when the batch holding it is written, or with the flush's error.</summary>
    /// <exception cref="InvalidOperationException">the writer is stopped.</exception>
    public Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            queue.Add((item, done), CancellationToken.None);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            throw new InvalidOperationException("the writer is stopped", e);
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    private void Pump()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>();
        long lastStart = 0;
        // False once the writer is stopped and everything submitted before has been taken.
        while (queue.TryTake(out var first, Timeout.Infinite))
        {
            if (batch.Count > 1 && Stopwatch.GetElapsedTime(lastStart) is var since && since < pacing)
            {
                Thread.Sleep(pacing - since);
            }
            lastStart = Stopwatch.GetTimestamp();
            batch.Clear();
            batch.Add(first);
            while (batch.Count < maxBatch && queue.TryTake(out var next))
            {
                batch.Add(next);
            }
            Flush(batch, alone: false);
        }
        stopped.SetResult();
    }

    private void Flush(List<(TItem Item, TaskCompletionSource<TResult> Done)> batch, bool alone)
    {
        try
        {
            var results = flush([.. batch.Select(b => b.Item)], CancellationToken.None).GetAwaiter().GetResult();
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (GroupCommitItemFaultException fault) when (fault.Index >= 0 && fault.Index < batch.Count)
        {
            // One item's own fault, which the flush named: that item fails, the others are written again together.
            batch[fault.Index].Done.TrySetException(fault.InnerException!);
            batch.RemoveAt(fault.Index);
            if (batch.Count > 0)
            {
                Flush(batch, alone);
            }
        }
#pragma warning disable CA1031 // The failure belongs to the callers waiting on this batch.
        catch (Exception e)
#pragma warning restore CA1031
        {
            if (!alone && batch.Count > 1 && isolate(e))
            {
                foreach (var item in batch)
                {
                    Flush([item], alone: true);
                }
                return;
            }
            foreach (var (_, done) in batch)
            {
                done.TrySetException(e);
            }
        }
    }

    /// <summary>Writes what was submitted, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref stopping, 1) == 0)
        {
            queue.CompleteAdding();
            await stopped.Task;
            queue.Dispose();
        }
        await stopped.Task;
    }
}

/// <summary>
/// Thrown by a <see cref="GroupCommit{TItem, TResult}"/> flush when one item of the batch failed it for a reason of its
/// own (<paramref name="inner"/>), which that item's caller gets; nothing of the batch was written, and the others are
/// written again as one batch.
/// </summary>
/// <param name="index">The item's place in the batch the flush was given.</param>
public sealed class GroupCommitItemFaultException(int index, Exception inner) : Exception(inner.Message, inner)
{
    public int Index { get; } = index;
}
