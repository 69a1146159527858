using OpenDcc.Core.Security;

namespace OpenDcc.Hub.Tests;

/// <summary>A message log passed through to <paramref name="log"/>, whose appends a test's decorator stands in front of.</summary>
internal abstract class MessageLogDecorator(IMessageLog log) : IMessageLog
{
    /// <summary>The log decorated, which an append goes on to.</summary>
    protected IMessageLog Inner => log;

    public abstract Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default);

    public IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence = 1, CancellationToken cancellationToken = default) => log.ReadAsync(fromSequence, cancellationToken);

    public IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence, long toSequence, CancellationToken cancellationToken = default) => log.ReadAsync(fromSequence, toSequence, cancellationToken);

    public IAsyncEnumerable<MessageLogEntry> ReadCorrelatedAsync(string correlation, long fromSequence, long toSequence, CancellationToken cancellationToken = default) => log.ReadCorrelatedAsync(correlation, fromSequence, toSequence, cancellationToken);

    public Task<(long Sequence, byte[] Hash)?> ReadHeadAsync(CancellationToken cancellationToken = default) => log.ReadHeadAsync(cancellationToken);

    public Task<(long Sequence, byte[] Hash)> ReadBaseAsync(CancellationToken cancellationToken = default) => log.ReadBaseAsync(cancellationToken);

    public Task<long> RemoveThroughAsync(long sequence, CancellationToken cancellationToken = default) => log.RemoveThroughAsync(sequence, cancellationToken);
}
