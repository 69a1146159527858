namespace OpenDcc.Core.Security;

/// <summary>
/// Group commit in front of an <see cref="IMessageLog"/>: concurrent callers' records are appended in one
/// transaction, and each caller resumes once its records are durably in the log. Keeps the gateway's cost of
/// logging every message to a fraction of a commit per request.
/// </summary>
public sealed class MessageLogWriter(IMessageLog log) : IAsyncDisposable
{
    private readonly GroupCommit<IReadOnlyList<MessageLogRecord>, IReadOnlyList<MessageLogEntry>> commit = new(async (groups, ct) =>
    {
        var entries = await log.AppendAsync([.. groups.SelectMany(g => g)], ct);
        var results = new List<IReadOnlyList<MessageLogEntry>>(groups.Count);
        var offset = 0;
        foreach (var group in groups)
        {
            results.Add([.. entries.Skip(offset).Take(group.Count)]);
            offset += group.Count;
        }
        return results;
    }, "message log writer");

    /// <summary>Appends records in order, together; completes when they are stored.</summary>
    public Task<IReadOnlyList<MessageLogEntry>> AppendAsync(IReadOnlyList<MessageLogRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return commit.SubmitAsync(records, cancellationToken);
    }

    public ValueTask DisposeAsync() => commit.DisposeAsync();
}
