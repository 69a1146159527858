namespace OpenDcc.Core.Security;

/// <summary>
/// Group commit in front of an <see cref="IMessageLog"/>: concurrent callers' records are appended in one
/// transaction, and each caller resumes once its records are durably in the log. Keeps the gateway's cost of
/// logging every message to a fraction of a commit per request.
/// </summary>
/// <remarks>
/// Under load a commit starts at most every <see cref="Pacing"/>. On the gateway benchmark (2 cores, SQLite, 128
/// users) unpaced commits carried the records of about 4 requests each, and a paced one 10 to 60. Measured CPU per
/// request, pacings alternated round by round in one run: none 602 µs against 5 ms 540 µs; 2 ms 550 against 10 ms
/// 528; 5 ms 603 against 10 ms 605 (the machine's speed drifts between runs, not within a pair). Most of the saving is
/// the disk's: the fsync and page writes of each commit (perf: fsync 2.8% of CPU at 2 ms, 1.9% at 10 ms). A request
/// waits at most that much longer, against about 35 ms at that load. A commit that fails because a device one caller's
/// inventory request changes was changed meanwhile fails that caller alone, the others' records committed together; one
/// that fails otherwise than with the store away (a record the store will not take) is made again a caller at a time, so
/// that only that record's caller fails.
/// </remarks>
public sealed class MessageLogWriter(IMessageLog log) : IMessageLogAppender, IAsyncDisposable
{
    /// <summary>The name of the thread that commits the log's appends, as debuggers, profilers and the gateway bench see it.</summary>
    public const string ThreadName = "message log writer";

    /// <summary>The least time between two commits' starts while the log is busy.</summary>
    private static readonly TimeSpan Pacing = TimeSpan.FromMilliseconds(5);

    private readonly GroupCommit<IReadOnlyList<MessageLogRecord>, IReadOnlyList<MessageLogEntry>> commit = new(async (groups, ct) =>
    {
        IReadOnlyList<MessageLogEntry> entries;
        try
        {
            entries = await log.AppendAsync([.. groups.SelectMany(g => g)], ct);
        }
        catch (Inventory.InventoryChangedException changed) when (changed.Write is { } write && groups.Count > 1)
        {
            // A device one caller's request changes was changed meanwhile (an expected race): that caller is told, and
            // the others' records are committed together, not a caller at a time.
            var index = groups.ToList().FindIndex(g => g.Any(r => ReferenceEquals(r.ChangesInventory, write)));
            if (index < 0)
            {
                throw;
            }
            throw new GroupCommitItemFaultException(index, changed);
        }
        var results = new List<IReadOnlyList<MessageLogEntry>>(groups.Count);
        var offset = 0;
        foreach (var group in groups)
        {
            results.Add([.. entries.Skip(offset).Take(group.Count)]);
            offset += group.Count;
        }
        return results;
    }, ThreadName, pacing: Pacing, isolate: fault => !StoreAway.Is(fault));

    /// <summary>Appends records in order, together; completes when they are stored.</summary>
    public Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return commit.SubmitAsync(records, cancellationToken);
    }

    public ValueTask DisposeAsync() => commit.DisposeAsync();
}
