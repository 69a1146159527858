using System.Data.Common;
using Npgsql;

namespace OpenDcc.Storage;

/// <summary>The few ADO.NET conveniences both engines' stores share.</summary>
internal static class Db
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
        return command;
    }

    /// <summary>Every row <paramref name="command"/> reads, each as <paramref name="read"/> makes it, in the order read.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(this DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>
    /// <paramref name="text"/> as both engines keep it: PostgreSQL's text holds no NUL character (it refuses the whole
    /// statement, 22021), SQLite's does; for text from outside (a receiver's HTTP reason phrase), each NUL is written as
    /// U+2400 SYMBOL FOR NULL (␀), on both.
    /// </summary>
    public static string Storable(string text) => text.Replace('\0', '\u2400');

    /// <summary>How many times in all <see cref="RetryAbortedAsync{T}"/> runs a transaction that PostgreSQL keeps aborting.</summary>
    private const int AbortedTries = 5;

    /// <summary>
    /// Runs <paramref name="transaction"/> (a whole transaction: its connection opened, its statements, its commit), and
    /// runs it again after a short random wait, up to <see cref="AbortedTries"/> times in all, while PostgreSQL aborts it
    /// to break a deadlock (40P01) or for a serialization failure (40001). The server has rolled all of it back, so it is
    /// run afresh, reading again what it read (the message log's head among them). Any other fault ends it, a commit whose
    /// outcome is not known among them (<see cref="Core.Security.CommitOutcomeUnknownException"/>: its cause is not looked
    /// into). Two transactions locking the same rows in opposite orders (an 8.4 deleting a comms hub in the message log's
    /// transaction, a device being moved to name that hub) each wait for the other; the server aborts one, and it is run
    /// again once the other is done, rather than failing its requests with the store away.
    /// </summary>
    public static async Task<T> RetryAbortedAsync<T>(Func<Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await transaction();
            }
            catch (PostgresException e) when (tries < AbortedTries && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 50) * tries), cancellationToken);
            }
        }
    }

    /// <summary><see cref="RetryAbortedAsync{T}"/> for a transaction with no result.</summary>
    public static Task RetryAbortedAsync(Func<Task> transaction, CancellationToken cancellationToken) =>
        RetryAbortedAsync(async () =>
        {
            await transaction();
            return true;
        }, cancellationToken);

    /// <summary>How a transaction is committed, unless a test stands in for it (the message log's and the delivery queue's <c>commit</c>).</summary>
    public static readonly Func<DbTransaction, CancellationToken, Task> Commit = (transaction, cancellationToken) => transaction.CommitAsync(cancellationToken);

    /// <summary>How long a commit whose answer was lost is looked into (<see cref="WhenStoreAnswersAsync"/>) before its outcome is taken as not known.</summary>
    public static readonly TimeSpan CommitOutcomeWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How a commit whose answer was lost is looked into: <paramref name="read"/> (given the whole seconds left, for its
    /// commands' timeouts) run until the store answers it, tried again after 0.25, 0.5, 1, then every 2 s while the
    /// store is away (<see cref="Core.StoreAway"/>), for at most <paramref name="within"/>; not answered after that.
    /// </summary>
    public static async Task<(bool Answered, T Value)> WhenStoreAnswersAsync<T>(Func<int, Task<T>> read, TimeSpan within, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        for (var wait = TimeSpan.FromMilliseconds(250); ; wait = wait * 2 < TimeSpan.FromSeconds(2) ? wait * 2 : TimeSpan.FromSeconds(2))
        {
            try
            {
                return (true, await read(Math.Max(1, (int)Math.Ceiling((within - waited.Elapsed).TotalSeconds))));
            }
            catch (Exception e) when (Core.StoreAway.Is(e))
            {
                if (waited.Elapsed + wait > within)
                {
                    return (false, default!);
                }
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>
    /// <c>INSERT INTO <paramref name="table"/> (<paramref name="columns"/>) VALUES (…), (…) …<paramref name="suffix"/></c>
    /// of <paramref name="rows"/> rows, its parameters added row by row in the columns' order, values bound later
    /// (row r's column c is parameter r × columns + c).
    /// </summary>
    public static DbCommand InsertRows(this DbConnection connection, DbTransaction transaction, string table, string columns, int rows, string suffix = "")
    {
        var count = columns.Split(',').Length;
        var command = connection.Command("", transaction);
        var tuples = new List<string>(rows);
        for (var row = 0; row < rows; row++)
        {
            var names = Enumerable.Range(0, count).Select(c => $"@v{row}_{c}").ToList();
            foreach (var name in names)
            {
                command.With(name, null);
            }
            tuples.Add($"({string.Join(", ", names)})");
        }
        command.CommandText = $"INSERT INTO {table} ({columns}) VALUES {string.Join(", ", tuples)}{suffix}";
        return command;
    }

    /// <summary>
    /// Runs a statement over the items in batches of <paramref name="size"/>: one command of that size, prepared once
    /// when it will run more than once and rebound for each batch, then one sized for what is left.
    /// </summary>
    public static async Task InBatchesAsync<T>(
        IReadOnlyList<T> items,
        int size,
        Func<int, DbCommand> statement,
        Action<DbParameterCollection, int, T> bind,
        Func<DbCommand, int, int, Task> execute,
        CancellationToken cancellationToken)
    {
        var offset = 0;
        while (offset < items.Count)
        {
            var count = Math.Min(size, items.Count - offset);
            await using var command = statement(count);
            var prepare = items.Count - offset >= 2 * count;
            do
            {
                for (var i = 0; i < count; i++)
                {
                    bind(command.Parameters, i, items[offset + i]);
                }
                if (prepare)
                {
                    await command.PrepareAsync(cancellationToken);
                    prepare = false;
                }
                await execute(command, offset, count);
                offset += count;
            }
            while (items.Count - offset >= count);
        }
    }
}
