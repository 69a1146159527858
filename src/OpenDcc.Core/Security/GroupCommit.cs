using System.Threading.Channels;

namespace OpenDcc.Core.Security;

/// <summary>
/// Group commit: items that callers submit concurrently are gathered and written by one flush (one transaction,
/// one fsync), and each caller resumes with its own result once the flush is durable. This is how per-request
/// writes (message log entries, replay counters) cost a fraction of a commit each under load.
/// </summary>
/// <typeparam name="TItem">What a caller submits.</typeparam>
/// <typeparam name="TResult">What each item yields once written; the flush returns one per item, in order.</typeparam>
public sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> flush;
    private readonly int maxBatch;
    private readonly Channel<(TItem Item, TaskCompletionSource<TResult> Done)> queue =
        Channel.CreateUnbounded<(TItem, TaskCompletionSource<TResult>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task pump;

    public GroupCommit(Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> flush, int maxBatch = 1024)
    {
        this.flush = flush ?? throw new ArgumentNullException(nameof(flush));
        this.maxBatch = maxBatch;
        pump = Task.Run(PumpAsync);
    }

    /// <summary>Submits an item; completes with its result when the batch holding it is written, or with the flush's error.</summary>
    public Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite((item, done)))
        {
            throw new InvalidOperationException("the writer is stopped");
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task PumpAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>();
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < maxBatch && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                var results = await flush([.. batch.Select(b => b.Item)], CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
#pragma warning disable CA1031 // The failure belongs to the callers waiting on this batch.
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(e);
                }
            }
        }
    }

    /// <summary>Writes what was submitted, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await pump;
    }
}
