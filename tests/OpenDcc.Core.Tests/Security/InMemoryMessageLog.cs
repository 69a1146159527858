using System.Runtime.CompilerServices;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>
/// A list-backed message log for testing the chain logic alone (the real stores run the contract suite in
/// OpenDcc.Storage.Tests). Its entries and head can be tampered with, as an intruder with database access could.
/// </summary>
internal sealed class InMemoryMessageLog : IMessageLog
{
    private readonly List<MessageLogEntry> entries = [];

    public (long Sequence, byte[] Hash)? Head { get; set; }

    /// <summary>The stored entries, in storage order; edit freely to simulate tampering.</summary>
    public List<MessageLogEntry> Entries => entries;

    public Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
    {
        var (lastSequence, lastHash) = Head ?? (0, MessageLogChain.Genesis.ToArray());
        var appended = MessageLogChain.Extend(lastSequence, lastHash, records);
        entries.AddRange(appended);
        if (appended.Length > 0)
        {
            Head = (appended[^1].Sequence, appended[^1].Hash);
        }
        return Task.FromResult<IReadOnlyList<MessageLogEntry>>(appended);
    }

    public async IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence = 1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var entry in entries.Where(e => e.Sequence >= fromSequence).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return entry;
        }
    }

    public IAsyncEnumerable<MessageLogEntry> ReadAsync(long fromSequence, long toSequence, CancellationToken cancellationToken = default) =>
        ReadAsync(fromSequence, cancellationToken).TakeWhile(e => e.Sequence <= toSequence);

    public IAsyncEnumerable<MessageLogEntry> ReadCorrelatedAsync(string correlation, long fromSequence, long toSequence, CancellationToken cancellationToken = default) =>
        entries.Where(e => e.Sequence >= fromSequence && e.Sequence <= toSequence && e.Record.Correlation == correlation).ToAsyncEnumerable();

    public Task<(long Sequence, byte[] Hash)?> ReadHeadAsync(CancellationToken cancellationToken = default) => Task.FromResult(Head);

    /// <summary>The last entry removed; edit freely, as an intruder hiding entries would.</summary>
    public (long Sequence, byte[] Hash) Base { get; set; } = (0, MessageLogChain.Genesis.ToArray());

    public Task<(long Sequence, byte[] Hash)> ReadBaseAsync(CancellationToken cancellationToken = default) => Task.FromResult(Base);

    public Task<long> RemoveThroughAsync(long sequence, CancellationToken cancellationToken = default)
    {
        var removed = entries.Where(e => e.Sequence <= sequence).ToList();
        entries.RemoveAll(e => e.Sequence <= sequence);
        Base = (removed[^1].Sequence, removed[^1].Hash);
        return Task.FromResult((long)removed.Count);
    }
}
