using System.Diagnostics;
using System.Globalization;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Storage;

namespace OpenDcc.Bench;

/// <summary>
/// Appending N entries to the hash-chained message log, against raw batched inserts of the same rows (same
/// columns, same sizes, same batch size, one transaction per batch) into the same kind of store, without the
/// chain (no hashing, no head row). Rounds alternate baseline and log on fresh databases; medians are reported.
/// Target (issue 2): log / raw >= 0.5.
/// </summary>
internal static class MessageLogBenchmark
{
    private static readonly Eui64 User = Eui64.Parse("90-B3-D5-1F-30-01-00-00");

    public static async Task<int> RunAsync(BenchArgs args)
    {
        Console.WriteLine($"message-log: {args.Entries:N0} entries of {args.PayloadBytes} payload bytes, batches of {args.Batch}, {args.Rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        var records = MakeRecords(args);
        var rows = RawRows(records);
        var engines = new List<string> { "sqlite" };
        if (args.Postgres is not null)
        {
            engines.Add("postgres");
        }
        var allMet = true;
        foreach (var engine in engines)
        {
            var raw = new List<double>();
            var chained = new List<double>();
            for (var round = 1; round <= args.Rounds; round++)
            {
                raw.Add(await MeasureAsync(engine, args, store => RawInsertAsync(store, rows, args.Batch)));
                chained.Add(await MeasureAsync(engine, args, store => ChainedAppendAsync(store, records, args.Batch)));
                Console.WriteLine($"  {engine} round {round}: raw {args.Entries / raw[^1],12:N0} rows/s   message log {args.Entries / chained[^1],12:N0} entries/s");
            }
            var rawRate = args.Entries / Median(raw);
            var logRate = args.Entries / Median(chained);
            var ratio = logRate / rawRate;
            allMet &= ratio >= 0.5;
            Console.WriteLine($"{engine}: raw batched inserts {rawRate:N0} rows/s; hash-chained message log {logRate:N0} entries/s; ratio {ratio:F2} (target >= 0.50: {(ratio >= 0.5 ? "met" : "NOT met")})");
        }
        return allMet ? 0 : 2;
    }

    private static MessageLogRecord[] MakeRecords(BenchArgs args)
    {
        var start = Instant.FromUtc(2026, 11, 28, 0, 0);
        var random = new Random(42);
        var records = new MessageLogRecord[args.Entries];
        for (var i = 0; i < records.Length; i++)
        {
            var payload = new byte[args.PayloadBytes];
            random.NextBytes(payload);
            records[i] = new MessageLogRecord(
                start.PlusTicks(i * 1000L),
                i % 2 == 0 ? MessageDirection.Inbound : MessageDirection.Outbound,
                User,
                string.Create(CultureInfo.InvariantCulture, $"90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:{i / 2}"),
                i % 2 == 0 ? "I99" : "I0",
                payload);
        }
        return records;
    }

    /// <summary>The records as the baseline writes them: numbered from 1, every hash zero.</summary>
    private static MessageLogEntry[] RawRows(MessageLogRecord[] records)
    {
        var hash = new byte[32];
        return records.Select((r, i) => new MessageLogEntry(i + 1L, r, hash, hash)).ToArray();
    }

    private static async Task<double> MeasureAsync(string engine, BenchArgs args, Func<OpenDccStore, Task> work)
    {
        var directory = Path.Combine(Path.GetTempPath(), "opendcc-bench-" + Guid.NewGuid().ToString("N"));
        await using var database = engine == "sqlite" ? null : await BenchDatabase.CreateAsync(args.Postgres!);
        var store = database is null
            ? await OpenDccStore.OpenSqliteAsync(directory, SystemClock.Instance)
            : await OpenDccStore.OpenPostgresAsync(database.ConnectionString, SystemClock.Instance);
        try
        {
            Heap.Settle();
            var watch = Stopwatch.StartNew();
            await work(store);
            return watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await store.DisposeAsync();
            if (database is null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static async Task ChainedAppendAsync(OpenDccStore store, MessageLogRecord[] records, int batch)
    {
        for (var offset = 0; offset < records.Length; offset += batch)
        {
            await store.MessageLog.AppendAsync(new ArraySegment<MessageLogRecord>(records, offset, Math.Min(batch, records.Length - offset)));
        }
    }

    /// <summary>
    /// The same rows into the same table, one transaction per batch, with constant hash columns, written by the log's
    /// own row writer (<see cref="SqlMessageLog.InsertAsync"/>), so the two sides differ only by what the log adds (the chain and its head row).
    /// </summary>
    private static async Task RawInsertAsync(OpenDccStore store, MessageLogEntry[] rows, int batch)
    {
        var log = (SqlMessageLog)store.MessageLog;
        for (var offset = 0; offset < rows.Length; offset += batch)
        {
            await using var connection = await store.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await log.InsertAsync(connection, transaction, new ArraySegment<MessageLogEntry>(rows, offset, Math.Min(batch, rows.Length - offset)), CancellationToken.None);
            await transaction.CommitAsync();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
