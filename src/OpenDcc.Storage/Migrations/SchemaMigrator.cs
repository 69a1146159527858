using System.Data.Common;
using System.Globalization;
using System.Reflection;
using NodaTime;

namespace OpenDcc.Storage.Migrations;

/// <summary>
/// Applies the versioned SQL scripts embedded under <c>Migrations/{engine}/NNNN_name.sql</c>, in order, each in
/// its own transaction, recording them in <c>schema_migration</c>. Run at every start; a no-op when current.
/// </summary>
/// <param name="noHubServes">
/// Before an upgrade (a schema some of whose migrations are applied and some not), throws <see cref="InvalidOperationException"/>
/// if a hub serves from the store: an older hub's code under a newer schema. Not asked when the store is new or current.
/// </param>
internal sealed class SchemaMigrator(string engine, Func<CancellationToken, Task<DbConnection>> open, string? lockStatement, IClock clock, Func<CancellationToken, Task> noHubServes)
{
    public sealed record Migration(int Version, string Name, string Sql);

    public IReadOnlyList<Migration> Migrations { get; } = Load(engine);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using (var create = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (lockStatement is not null)
            {
                // Under the lock too: nodes starting together on a new database would otherwise race on IF NOT EXISTS.
                await ExecuteAsync(connection, create, lockStatement, cancellationToken);
            }
            await ExecuteAsync(connection, create,
                "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken);
            await create.CommitAsync(cancellationToken);
        }
        var applied = new HashSet<int>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT version FROM schema_migration";
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }
        if (applied.Count > 0 && Migrations.FirstOrDefault(m => !applied.Contains(m.Version)) is { } next)
        {
            try
            {
                await noHubServes(cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException(
                    $"this OpenDcc would upgrade the store's schema (from migration {next.Version}, {next.Name}, to {Migrations[^1].Version}), but {e.Message}: stop that hub first, then start this version; the store is unchanged", e);
            }
        }
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (lockStatement is not null)
            {
                // Serialises concurrent starts of several nodes against one database.
                await ExecuteAsync(connection, transaction, lockStatement, cancellationToken);
            }
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
                record.CommandText = "INSERT INTO schema_migration (version, name, applied_at) VALUES (@v, @n, @a)";
                AddParameter(record, "@v", migration.Version);
                AddParameter(record, "@n", migration.Name);
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
