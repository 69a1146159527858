using System.Data.Common;
using System.Globalization;
using System.Reflection;
using NodaTime;

namespace OpenDcc.Storage.Migrations;

/// <summary>
/// Applies the versioned SQL scripts embedded under <c>Migrations/{engine}/NNNN_name.sql</c>, in order, each in
/// its own transaction, recording them in <c>schema_migration</c> with their SHA-256. Run at every start; a no-op when
/// current. A migration applied to the database whose script has changed since is refused: a released migration is
/// never edited (the databases it ran on would silently differ from new ones); a change goes in a new migration.
/// </summary>
/// <param name="oneAtATime">
/// Makes this the only migrator of the store until disposed, waiting for another to finish (nodes starting together):
/// PostgreSQL's session advisory lock, SQLite's lock file in the data directory.
/// </param>
/// <param name="noHubServes">
/// Before an upgrade (a schema some of whose migrations are applied and some not): holds the store's hub lease until
/// disposed, so that no hub serves from it while its schema changes; throws <see cref="InvalidOperationException"/> if a
/// hub serves from it now (an older hub, whose code would run under a newer schema). Not asked for a new or current store.
/// </param>
internal sealed class SchemaMigrator(string engine, Func<CancellationToken, Task<DbConnection>> open, IClock clock, Func<CancellationToken, Task<IAsyncDisposable>> oneAtATime, Func<CancellationToken, Task<IAsyncDisposable>> noHubServes)
{
    public sealed record Migration(int Version, string Name, string Sql)
    {
        /// <summary>SHA-256 of the script, its line endings made LF (a checkout's CRLF is no change), as hex.</summary>
        public string Checksum { get; } = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
    }

    public IReadOnlyList<Migration> Migrations { get; } = Load(engine);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // Nodes starting together on one database take turns: the first migrates, the others find it current.
        await using var alone = await oneAtATime(cancellationToken);
        await using var connection = await open(cancellationToken);
        await using (var create = await connection.BeginTransactionAsync(cancellationToken))
        {
            await ExecuteAsync(connection, create,
                "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken);
            // Databases made before checksums were kept lack the column: added, and filled below.
            if (!await HasChecksumColumnAsync(connection, create, cancellationToken))
            {
                await ExecuteAsync(connection, create, "ALTER TABLE schema_migration ADD COLUMN checksum TEXT NULL", cancellationToken);
            }
            await create.CommitAsync(cancellationToken);
        }
        var recorded = new Dictionary<int, string?>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT version, checksum FROM schema_migration";
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                recorded[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }
        var applied = recorded.Keys.ToHashSet();
        foreach (var migration in Migrations.Where(m => recorded.TryGetValue(m.Version, out var checksum) && checksum is not null && checksum != m.Checksum))
        {
            throw new InvalidOperationException(
                $"migration {migration.Version} ({migration.Name}) is not the one applied to this database (its SHA-256 was {recorded[migration.Version]}, this OpenDcc's is {migration.Checksum}): a released migration is never edited; restore it, and put the change in a new migration");
        }
        if (Migrations.Where(m => recorded.TryGetValue(m.Version, out var checksum) && checksum is null).ToList() is { Count: > 0 } unrecorded)
        {
            // Applied before checksums were kept: recorded as they are now, the scripts that made them having been checked since by review only.
            await using var backfill = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var migration in unrecorded)
            {
                await using var record = connection.CreateCommand();
                record.Transaction = backfill;
                record.CommandText = "UPDATE schema_migration SET checksum = @c WHERE version = @v AND checksum IS NULL";
                AddParameter(record, "@c", migration.Checksum);
                AddParameter(record, "@v", migration.Version);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await backfill.CommitAsync(cancellationToken);
        }
        IAsyncDisposable? hubsKeptOut = null;
        if (applied.Count > 0 && Migrations.FirstOrDefault(m => !applied.Contains(m.Version)) is { } next)
        {
            try
            {
                hubsKeptOut = await noHubServes(cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException(
                    $"this OpenDcc would upgrade the store's schema (from migration {next.Version}, {next.Name}, to {Migrations[^1].Version}), but {e.Message}: stop that hub first, then start this version; the store is unchanged", e);
            }
        }
        try
        {
            await ApplyAsync(connection, applied, cancellationToken);
        }
        finally
        {
            if (hubsKeptOut is not null)
            {
                await hubsKeptOut.DisposeAsync();
            }
        }
    }

    private async Task ApplyAsync(DbConnection connection, HashSet<int> applied, CancellationToken cancellationToken)
    {
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var check = connection.CreateCommand())
            {
                check.Transaction = transaction;
                check.CommandText = "SELECT COUNT(*) FROM schema_migration WHERE version = " + migration.Version.ToString(CultureInfo.InvariantCulture);
                if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0)
                {
                    continue;
                }
            }
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migration (version, name, applied_at, checksum) VALUES (@v, @n, @a, @c)";
                AddParameter(record, "@v", migration.Version);
                AddParameter(record, "@n", migration.Name);
                AddParameter(record, "@c", migration.Checksum);
                AddParameter(record, "@a", clock.GetCurrentInstant().ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        await using var newest = connection.CreateCommand();
        newest.CommandText = "SELECT MAX(version) FROM schema_migration";
        var newestApplied = Convert.ToInt32(await newest.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        var known = Migrations[^1].Version;
        if (newestApplied > known)
        {
            throw new InvalidOperationException($"the database schema is at version {newestApplied}, newer than this OpenDcc knows ({known}); upgrade OpenDcc");
        }
    }

    private async Task<bool> HasChecksumColumnAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.Transaction = transaction;
        probe.CommandText = engine == "Sqlite"
            ? "SELECT COUNT(*) FROM pragma_table_info('schema_migration') WHERE name = 'checksum'"
            : "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'schema_migration' AND column_name = 'checksum'";
        return Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    private static List<Migration> Load(string engine)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"migrations/{engine}/";
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..^".sql".Length];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            var version = int.Parse(file[..underscore], CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            migrations.Add(new Migration(version, file[(underscore + 1)..], reader.ReadToEnd()));
        }
        if (migrations.Count == 0)
        {
            throw new InvalidOperationException($"no migrations embedded for {engine}");
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }
}
