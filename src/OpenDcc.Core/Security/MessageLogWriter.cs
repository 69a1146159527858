using System.Threading.Channels;

namespace OpenDcc.Core.Security;

/// <summary>
/// Group commit in front of an <see cref="IMessageLog"/>: concurrent callers' records are gathered and appended in
/// one transaction, and each caller resumes once its records are durably in the log. Keeps the gateway's cost of
/// logging every message to a fraction of a commit per request.
/// </summary>
public sealed class MessageLogWriter : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private readonly IMessageLog log;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task pump;

    public MessageLogWriter(IMessageLog log)
    {
        this.log = log ?? throw new ArgumentNullException(nameof(log));
        pump = Task.Run(PumpAsync);
    }

    /// <summary>Appends records in order, together; completes when they are stored.</summary>
    public Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var pending = new Pending(records, new TaskCompletionSource<IReadOnlyList<MessageLogEntry>>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("the message log writer is stopped");
        }
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task PumpAsync()
    {
        var batch = new List<Pending>();
        var records = new List<MessageLogRecord>();
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            records.Clear();
            while (records.Count < MaxBatch && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                records.AddRange(next.Records);
            }
            try
            {
                var entries = await log.AppendAsync(records, CancellationToken.None);
                var offset = 0;
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetResult([.. entries.Skip(offset).Take(pending.Records.Count)]);
                    offset += pending.Records.Count;
                }
            }
#pragma warning disable CA1031 // The failure belongs to the callers waiting on this batch.
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await pump;
    }

    private sealed record Pending(IReadOnlyList<MessageLogRecord> Records, TaskCompletionSource<IReadOnlyList<MessageLogEntry>> Completion);
}
